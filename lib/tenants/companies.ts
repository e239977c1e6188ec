// Companies as an operator sets them up: identity, time zone, settings (reminder plan, quiet hours) and plan limits.
import type { Sql, TransactionSql } from '../db';
import { companyProfileColumns, type CompanyProfile } from '../messages/load';
import { ianaTimezone } from '../../schemas/load-map';
import { patchSettings, settingsProblems, withReminderPart } from './company-settings';

/** A problem with what the operator asked for; the message names the field or settings path. */
export class CompanyInputError extends Error {
  override readonly name = 'CompanyInputError';
}

/** Plan limits by the name an operator writes (`--limit sms-per-day=5000`), and their column. */
export const PLAN_LIMITS = {
  'sms-per-day': 'max_sms_per_day',
  'voice-per-day': 'max_voice_per_day',
  'email-per-day': 'max_email_per_day',
  'messages-per-month': 'max_messages_per_month',
  'sms-segments': 'max_sms_segments',
  'sends-per-second': 'max_sends_per_second',
} as const;
export type PlanLimit = keyof typeof PLAN_LIMITS;

export interface CompanyChange {
  name?: string;
  timezone?: string;
  phoneNumber?: string | null;
  emailFrom?: string | null;
  emailReplyTo?: string | null;
  retentionDays?: number;
  active?: boolean;
  /** top-level settings keys to replace (null removes one); checked as a whole after the change */
  settings?: Record<string, unknown>;
  /** parts of `settings.reminders` to replace, the others kept (null removes one) */
  reminders?: Partial<Record<'quietHours' | 'schedule', unknown>>;
  /** the plan's name */
  plan?: string;
  /** null = unlimited */
  limits?: Partial<Record<PlanLimit, number | null>>;
}

export interface CompanyView extends CompanyProfile {
  retentionDays: number;
  active: boolean;
  settings: Record<string, unknown>;
  plan: { plan: string; limits: Record<PlanLimit, number | null> } | null;
}

function checkChange(change: CompanyChange): void {
  const problems: string[] = [];
  if (change.name !== undefined && change.name.trim() === '') problems.push('name: must not be blank');
  if (change.timezone !== undefined && !ianaTimezone.safeParse(change.timezone).success)
    problems.push(`timezone: "${change.timezone}" must be an IANA time zone such as America/Chicago`);
  if (change.phoneNumber && !/^\+[1-9][0-9]{6,14}$/.test(change.phoneNumber))
    problems.push(`phone: "${change.phoneNumber}" must be in E.164, e.g. +16175550100`);
  for (const [field, value] of [
    ['email-from', change.emailFrom],
    ['reply-to', change.emailReplyTo],
  ] as const) {
    if (value && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value))
      problems.push(`${field}: "${value}" is not an email address`);
  }
  if (
    change.retentionDays !== undefined &&
    !(Number.isInteger(change.retentionDays) && change.retentionDays >= 1 && change.retentionDays <= 3650)
  )
    problems.push('retention-days: must be a whole number of days from 1 to 3650');
  for (const [limit, value] of Object.entries(change.limits ?? {})) {
    if (!(limit in PLAN_LIMITS))
      problems.push(`limit ${limit}: unknown; known: ${Object.keys(PLAN_LIMITS).join(', ')}`);
    else if (value !== null && !(Number.isInteger(value) && value >= 0))
      problems.push(`limit ${limit}: must be a whole number (or "none")`);
    else if (limit === 'sms-segments' && value !== null && (value < 1 || value > 10))
      problems.push('limit sms-segments: must be from 1 to 10');
    else if (limit === 'sends-per-second' && value === 0)
      problems.push('limit sends-per-second: must be above 0');
  }
  if (problems.length) throw new CompanyInputError(problems.join('; '));
}

async function checkSettings(tx: TransactionSql, settings: Record<string, unknown>): Promise<void> {
  const problems = settingsProblems(settings);
  const accounts = (settings.accounts ?? {}) as Record<string, string>;
  for (const [ch, key] of Object.entries(accounts)) {
    const [account] =
      await tx`select 1 from provider_accounts where key = ${key} and channel = ${ch} and active`;
    if (!account)
      problems.push(`settings.accounts.${ch}: no active ${ch} provider account has the key "${key}"`);
  }
  if (problems.length) throw new CompanyInputError(problems.join('; '));
}

function nextSettings(current: Record<string, unknown>, change: CompanyChange): Record<string, unknown> {
  let settings = patchSettings(current, change.settings ?? {});
  for (const [part, value] of Object.entries(change.reminders ?? {}))
    settings = withReminderPart(settings, part as 'quietHours' | 'schedule', value);
  return settings;
}

async function savePlan(tx: TransactionSql, companyId: number, change: CompanyChange): Promise<void> {
  if (change.plan === undefined && change.limits === undefined) return;
  const columns: Record<string, unknown> = {};
  if (change.plan !== undefined) columns.plan = change.plan;
  for (const [limit, value] of Object.entries(change.limits ?? {}))
    columns[PLAN_LIMITS[limit as PlanLimit]] = value ?? (limit === 'sms-segments' ? 4 : null);
  await tx`
    insert into company_plans ${tx({ company_id: companyId, ...columns })}
    on conflict (company_id) do update set ${tx(columns)}`;
}

export async function addCompany(
  tx: TransactionSql,
  alias: string,
  change: CompanyChange & { name: string },
): Promise<CompanyView> {
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(alias))
    throw new CompanyInputError(`alias: "${alias}" must be 2-63 lower-case letters, digits and -`);
  checkChange(change);
  const [taken] = await tx`select 1 from companies where alias = ${alias}`;
  if (taken)
    throw new CompanyInputError(`a company with the alias "${alias}" exists; change it with companies set`);
  const settings = nextSettings({}, change);
  await checkSettings(tx, settings);
  const [row] = await tx<{ id: number }[]>`
    insert into companies (alias, name, timezone, phone_number, email_from, email_reply_to, retention_days, active, settings)
    values (${alias}, ${change.name}, ${change.timezone ?? 'America/New_York'}, ${change.phoneNumber ?? null},
            ${change.emailFrom ?? null}, ${change.emailReplyTo ?? null}, ${change.retentionDays ?? 90},
            ${change.active ?? true}, ${tx.json(settings as never)})
    returning id`;
  await savePlan(tx, row!.id, change);
  return (await readCompany(tx, alias))!;
}

export async function setCompany(
  tx: TransactionSql,
  alias: string,
  change: CompanyChange,
): Promise<CompanyView> {
  checkChange(change);
  const [current] = await tx<{ id: number; settings: Record<string, unknown> }[]>`
    select id, settings from companies where alias = ${alias} for update`;
  if (!current) throw new CompanyInputError(`no company has the alias "${alias}"`);
  const columns: Record<string, unknown> = {};
  if (change.name !== undefined) columns.name = change.name;
  if (change.timezone !== undefined) columns.timezone = change.timezone;
  if (change.phoneNumber !== undefined) columns.phone_number = change.phoneNumber;
  if (change.emailFrom !== undefined) columns.email_from = change.emailFrom;
  if (change.emailReplyTo !== undefined) columns.email_reply_to = change.emailReplyTo;
  if (change.retentionDays !== undefined) columns.retention_days = change.retentionDays;
  if (change.active !== undefined) columns.active = change.active;
  if (change.settings !== undefined || change.reminders !== undefined) {
    const settings = nextSettings(current.settings, change);
    await checkSettings(tx, settings);
    columns.settings = tx.json(settings as never);
  }
  if (Object.keys(columns).length) await tx`update companies set ${tx(columns)} where id = ${current.id}`;
  await savePlan(tx, current.id, change);
  return (await readCompany(tx, alias))!;
}

export async function readCompany(
  sql: Sql | TransactionSql,
  alias: string,
): Promise<CompanyView | undefined> {
  const [row] = await sql<(Omit<CompanyView, 'plan'> & Record<string, unknown>)[]>`
    select ${companyProfileColumns(sql)}, c.retention_days as "retentionDays", c.active, c.settings,
           p.plan, p.max_sms_per_day, p.max_voice_per_day, p.max_email_per_day, p.max_messages_per_month,
           p.max_sms_segments, p.max_sends_per_second
    from companies c left join company_plans p on p.company_id = c.id
    where c.alias = ${alias}`;
  if (!row) return undefined;
  const limits = Object.fromEntries(
    Object.entries(PLAN_LIMITS).map(([name, column]) => [name, (row[column] as number | null) ?? null]),
  ) as Record<PlanLimit, number | null>;
  return {
    id: row.id,
    alias: row.alias,
    name: row.name,
    timezone: row.timezone,
    phoneNumber: row.phoneNumber,
    emailFrom: row.emailFrom,
    emailReplyTo: row.emailReplyTo,
    retentionDays: row.retentionDays,
    active: row.active,
    settings: row.settings,
    plan: row.plan ? { plan: row.plan as string, limits } : null,
  };
}

export interface CompanyListing {
  alias: string;
  name: string;
  timezone: string;
  active: boolean;
  balance: number;
  loadMaps: number;
  sources: number;
}

export async function listCompanies(sql: Sql): Promise<CompanyListing[]> {
  const rows = await sql<(Omit<CompanyListing, 'balance'> & { balance: string })[]>`
    select c.alias, c.name, c.timezone, c.active, b.balance,
           (select count(distinct name)::int from company_load_maps m where m.company_id = c.id and m.active) as "loadMaps",
           (select count(*)::int from data_ingest_sources s where s.company_id = c.id) as sources
    from companies c join company_credit_balances b on b.company_id = c.id
    order by c.alias`;
  return rows.map((r) => ({ ...r, balance: Number(r.balance) }));
}
