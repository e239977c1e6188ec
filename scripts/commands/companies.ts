// `herald companies add|set|show|list`: client companies, their time zone, reminder plan, quiet hours and plan limits.
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import type { App } from '../../lib/app';
import {
  addCompany,
  CompanyInputError,
  listCompanies,
  PLAN_LIMITS,
  readCompany,
  setCompany,
  type CompanyChange,
  type CompanyView,
  type PlanLimit,
} from '../../lib/tenants/companies';
import { creditStatement } from '../../lib/tenants/credits';
import { listSenders } from '../../lib/tenants/senders';
import { listTemplates } from '../../lib/tenants/templates';
import { listLoadMapVersions } from '../../lib/load-maps/store';
import { listSources } from '../../lib/sources/store';
import { DEFAULT_REMINDER_PLAN } from '../../schemas/company-settings';
import { changeFlags, makeChange, overwrites, printChange, type ChangeFlags } from '../change-kit';
import { EXIT, print, UsageError, withApp } from '../cli-kit';

interface CompanyFlags extends ChangeFlags {
  name?: string;
  timezone?: string;
  phone?: string;
  emailFrom?: string;
  replyTo?: string;
  retentionDays?: number;
  active?: boolean;
  reminderPlan?: string;
  quietHours?: string;
  schedule?: string;
  fallbackChannel?: string;
  settings?: string;
  plan?: string;
  limit: [PlanLimit, number | null][];
}

/** A JSON value given inline ('{...}', '[...]') or as a file; errors name the flag. */
async function jsonFlag(flag: string, value: string): Promise<unknown> {
  const inline = /^\s*[[{]/.test(value);
  const text = inline
    ? value
    : await readFile(value, 'utf8').catch((err: Error) => {
        throw new UsageError(`${flag}: cannot read ${value}: ${err.message}`);
      });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag}: ${inline ? 'the value' : value} is not JSON (${(err as Error).message})`);
  }
}

const limitFlag = (value: string, all: [PlanLimit, number | null][]): [PlanLimit, number | null][] => {
  const match = /^([a-z-]+)=(\d+|none)$/.exec(value.trim());
  if (!match || !(match[1]! in PLAN_LIMITS))
    throw new InvalidArgumentError(
      `must be NAME=N or NAME=none, NAME one of ${Object.keys(PLAN_LIMITS).join(', ')}`,
    );
  return [...all, [match[1] as PlanLimit, match[2] === 'none' ? null : Number(match[2])]];
};

const days = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be a whole number of days');
  return n;
};

/** What the flags ask to change; settings parts land under their own keys, checked whole by the store. */
async function changeOf(o: CompanyFlags): Promise<CompanyChange> {
  let settings: Record<string, unknown> | undefined;
  if (o.settings) {
    const whole = await jsonFlag('--settings', o.settings);
    if (typeof whole !== 'object' || whole === null || Array.isArray(whole))
      throw new UsageError('--settings: must be a JSON object');
    settings = whole as Record<string, unknown>;
  }
  if (o.reminderPlan)
    settings = { ...settings, reminderPlan: await jsonFlag('--reminder-plan', o.reminderPlan) };
  if (o.fallbackChannel)
    settings = { ...settings, fallbackChannel: o.fallbackChannel === 'none' ? null : o.fallbackChannel };
  const reminders: CompanyChange['reminders'] = {};
  if (o.quietHours) reminders.quietHours = await jsonFlag('--quiet-hours', o.quietHours);
  if (o.schedule) reminders.schedule = await jsonFlag('--schedule', o.schedule);
  return {
    name: o.name,
    timezone: o.timezone,
    phoneNumber: o.phone === undefined ? undefined : o.phone === 'none' ? null : o.phone,
    emailFrom: o.emailFrom === undefined ? undefined : o.emailFrom === 'none' ? null : o.emailFrom,
    emailReplyTo: o.replyTo === undefined ? undefined : o.replyTo === 'none' ? null : o.replyTo,
    retentionDays: o.retentionDays,
    active: o.active,
    settings,
    reminders: Object.keys(reminders).length ? reminders : undefined,
    plan: o.plan,
    limits: o.limit.length ? Object.fromEntries(o.limit) : undefined,
  };
}

function describeCompany(c: CompanyView): string[] {
  const plan = (c.settings.reminderPlan as typeof DEFAULT_REMINDER_PLAN | undefined) ?? DEFAULT_REMINDER_PLAN;
  return [
    `${c.alias}: ${c.name} (${c.timezone})${c.active ? '' : '  INACTIVE'}`,
    `  sends as    ${c.phoneNumber ?? 'no phone'}, ${c.emailFrom ?? 'no email sender'}${c.emailReplyTo ? `, replies to ${c.emailReplyTo}` : ''}`,
    `  reminders   ${plan.map((s) => `${s.step} (${s.channel}${s.at ? ` at ${s.at}` : ''})`).join(', ') || 'none'}${c.settings.reminderPlan ? '' : ' (herald default)'}`,
    `  settings    ${JSON.stringify(c.settings)}`,
    `  plan        ${
      c.plan
        ? `${c.plan.plan}: ${Object.entries(c.plan.limits)
            .map(([k, v]) => `${k} ${v ?? 'unlimited'}`)
            .join(', ')}`
        : 'no plan limits'
    }`,
    `  retention   ${c.retentionDays} days`,
  ];
}

async function change(app: App, alias: string, o: CompanyFlags, adding: boolean): Promise<number> {
  const wanted = await changeOf(o);
  if (adding && !wanted.name) throw new UsageError('give the company a --name');
  try {
    const outcome = await makeChange(
      app,
      o,
      (tx) =>
        adding ? addCompany(tx, alias, { ...wanted, name: wanted.name! }) : setCompany(tx, alias, wanted),
      { destructive: adding ? undefined : (audit) => overwrites(audit, ['companies', 'company_plans']) },
    );
    printChange(o, outcome, describeCompany);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CompanyInputError) throw new UsageError(err.message);
    throw err;
  }
}

async function show(app: App, alias: string, o: { json?: boolean }): Promise<number> {
  const company = await readCompany(app.sql, alias);
  if (!company) throw new UsageError(`no company has the alias "${alias}" (see herald companies list)`);
  const [senders, templates, loadMaps, sources, credits] = await Promise.all([
    listSenders(app.sql, company.id),
    listTemplates(app.sql, company.id),
    listLoadMapVersions(app.sql, company.id),
    listSources(app.sql, alias),
    creditStatement(app.sql, company.id, 5),
  ]);
  const activeMaps = loadMaps.filter((m) => m.active);
  print(!!o.json, { ...company, senders, templates, loadMaps, sources, credits }, () => [
    ...describeCompany(company),
    `  senders     ${senders.map((s) => `${s.channel} ${s.address}${s.shared ? ' (shared)' : ''}`).join(', ') || 'none'}`,
    `  templates   ${templates.map((t) => `${t.channel} ${t.name} (${t.language}, ${t.scope} v${t.version})`).join(', ') || 'none'}`,
    `  load maps   ${activeMaps.map((m) => `${m.name}@${m.version}`).join(', ') || 'none'}`,
    `  sources     ${sources.map((s) => `${s.name} (${s.kind}, map ${s.loadMap ?? 'default'})`).join(', ') || 'none'}`,
    `  credits     ${credits.balance} (${credits.reserved} reserved)${credits.held.length ? `; held: ${credits.held.map((h) => `${h.messages} ${h.channel}`).join(', ')}` : ''}`,
  ]);
  return EXIT.ok;
}

function companyOptions(command: Command): Command {
  return command
    .option('--name <name>', 'the company name people see')
    .option('--timezone <zone>', 'IANA time zone, e.g. America/Chicago (default America/New_York)')
    .option('--phone <e164>', 'its own phone number (E.164), or none')
    .option('--email-from <address>', 'the From address of its emails, or none')
    .option('--reply-to <address>', 'where email replies go, or none')
    .option('--retention-days <n>', 'days its messages and packets are kept', days)
    .option(
      '--reminder-plan <json|file>',
      'the reminder steps: [{"step":"sms-2d","channel":"sms","template":"appointment_reminder","offset":{"days":-2},"at":"10:00"}, ...]',
    )
    .option(
      '--quiet-hours <json|file>',
      'narrower quiet hours: {"window":{"start":"09:00","end":"20:00"},"states":{...}}',
    )
    .option(
      '--schedule <json|file>',
      'when reminder runs start: {"everyMinutes":15} or {"dailyAt":["09:00"]}',
    )
    .option(
      '--fallback-channel <channel>',
      'sms, voice, email or none: used when a step cannot reach someone',
    )
    .option('--settings <json|file>', 'settings keys to replace, as one JSON object (null removes a key)')
    .option('--plan <name>', "the plan's name")
    .option(
      '--limit <name=n>',
      `a plan limit (repeatable): ${Object.keys(PLAN_LIMITS).join(', ')}; =none for unlimited`,
      limitFlag,
      [],
    );
}

export function registerCompanyCommands(program: Command): void {
  const companies = program
    .command('companies')
    .description('client companies: identity, time zone, reminder plan, quiet hours, plan limits');
  changeFlags(
    companyOptions(
      companies
        .command('add')
        .description('add a company (settings checked by the schemas ingest and reminders read them with)')
        .argument('<alias>', 'a short lower-case id: letters, digits and -'),
    ),
  ).action((alias: string, o: CompanyFlags) => withApp({}, (app) => change(app, alias, o, true)));
  changeFlags(
    companyOptions(
      companies
        .command('set')
        .description('change a company; replacing a value it had is shown and asked about first (or --yes)')
        .argument('<alias>', 'the company')
        .option('--active', 'take it back into service')
        .option('--inactive', 'stop loading its files (its sources and reminders stop with it)'),
    ),
    { confirms: true },
  ).action((alias: string, o: CompanyFlags & { inactive?: boolean }) =>
    withApp({}, (app) => change(app, alias, { ...o, active: o.inactive ? false : o.active }, false)),
  );
  companies
    .command('show')
    .description('one company: settings, plan, senders, templates, load maps, sources, credits')
    .argument('<alias>', 'the company')
    .option('--json', 'print as JSON')
    .action((alias: string, o: { json?: boolean }) => withApp({}, (app) => show(app, alias, o)));
  companies
    .command('list')
    .description('every company with its time zone, credits, load maps and sources')
    .option('--json', 'print as JSON')
    .action((o: { json?: boolean }) =>
      withApp({}, async (app) => {
        const rows = await listCompanies(app.sql);
        print(!!o.json, rows, () =>
          rows.map(
            (c) =>
              `${c.alias.padEnd(24)} ${c.name.padEnd(32)} ${c.timezone.padEnd(20)} credits ${String(c.balance).padStart(9)}  ` +
              `${c.loadMaps} map(s), ${c.sources} source(s)${c.active ? '' : '  INACTIVE'}`,
          ),
        );
      }),
    );
}
