// `herald template validate|preview`: check a template file, and see a company's template rendered on every channel.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { App } from '../../lib/app';
import { loadCompanyContext, type DispatchMessage } from '../../lib/messages/load';
import {
  createRenderer,
  previewMessage,
  renderInput,
  RenderProblem,
  type RenderedMessage,
} from '../../lib/render/render-message';
import type { Channel } from '../../lib/providers/types';
import {
  checkTemplate,
  parseTemplateFile,
  TEMPLATE_CHANNELS,
  TemplateFileError,
} from '../../lib/tenants/template-files';
import type { TemplateText } from '../../lib/tenants/templates';
import { EXIT, print, UsageError, withApp } from '../cli-kit';
import { STEP_DATA_FIELDS } from '../../lib/messages/due-steps';
import { describeRendered, registerTemplateVersionCommands } from './template-versions';

const CHANNELS = TEMPLATE_CHANNELS;

async function readTemplates(
  file: string,
  opts: { channel?: string; name?: string; language?: string },
): Promise<TemplateText[]> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new UsageError(`cannot read ${file}: ${err.message}`);
  });
  try {
    return parseTemplateFile(file, text, opts);
  } catch (err) {
    if (err instanceof TemplateFileError) throw new UsageError(err.message);
    throw err;
  }
}

/** The data fields a company's active load maps produce: mapped canonical fields plus what a reminder adds. */
async function companyFields(app: App, alias: string): Promise<string[]> {
  const maps = await app.sql<{ load_map: { fields?: Record<string, unknown> } }[]>`
    select m.load_map from company_load_maps m join companies c on c.id = m.company_id
    where c.alias = ${alias} and m.active`;
  if (!maps.length) throw new UsageError(`company "${alias}" has no active load map (or no such company)`);
  return [...new Set([...STEP_DATA_FIELDS, ...maps.flatMap((m) => Object.keys(m.load_map.fields ?? {}))])];
}

async function validateFile(
  file: string,
  opts: { channel?: string; company?: string; json?: boolean },
  app?: App,
): Promise<number> {
  const templates = await readTemplates(file, opts);
  const fields = app && opts.company ? await companyFields(app, opts.company) : undefined;
  const issues = templates.flatMap((t) => checkTemplate(t, fields));
  const errors = issues.filter((i) => i.severity === 'error');
  print(!!opts.json, { file, valid: errors.length === 0, templates: templates.length, issues }, () => [
    `${file}: ${errors.length ? 'invalid' : 'valid'}: ${templates.length} template(s), ${errors.length} error(s), ${issues.length - errors.length} warning(s)` +
      (fields ? '' : ' (data fields not checked: give --company to check them against its load maps)'),
    ...issues.map((i) => `  ${i.severity} in ${i.template} ${i.part}: ${i.message}`),
  ]);
  return errors.length ? EXIT.failed : EXIT.ok;
}

/** The message a preview renders: the contact's latest message data (or the given data) on each channel. */
async function messageToPreview(
  app: App,
  companyId: number,
  template: string,
  opts: { contact?: string; data?: string },
) {
  if (!!opts.contact === !!opts.data)
    throw new UsageError('give exactly one of --contact ID and --data JSON');
  let data: Record<string, unknown> = {};
  let contact = {
    id: 0,
    first_name: null as string | null,
    last_name: null as string | null,
    language: 'en',
    timezone: null as string | null,
  };
  if (opts.data) {
    try {
      data = JSON.parse(opts.data) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`--data is not JSON: ${(err as Error).message}`);
    }
  } else {
    const [row] = await app.sql<(typeof contact)[]>`
      select id, first_name, last_name, language, timezone from contacts where company_id = ${companyId} and id = ${Number(opts.contact)}`;
    if (!row) throw new UsageError(`company has no contact with id ${opts.contact}`);
    contact = row;
    const [latest] = await app.sql<{ data: Record<string, unknown> }[]>`
      select data from messages where company_id = ${companyId} and contact_id = ${row.id} order by id desc limit 1`;
    data = latest?.data ?? { first_name: row.first_name, last_name: row.last_name };
  }
  return (channel: Channel): DispatchMessage =>
    previewMessage({
      companyId,
      channel,
      templateName: template,
      data,
      contact: {
        id: contact.id,
        firstName: contact.first_name,
        lastName: contact.last_name,
        language: contact.language,
        timezone: contact.timezone,
      },
    });
}

async function preview(
  app: App,
  opts: { company: string; template: string; contact?: string; data?: string; json?: boolean },
): Promise<number> {
  const [company] = await app.sql<{ id: number }[]>`select id from companies where alias = ${opts.company}`;
  if (!company) throw new UsageError(`no company has the alias "${opts.company}"`);
  const messageFor = await messageToPreview(app, company.id, opts.template, opts);
  const results: {
    channel: Channel;
    template?: string;
    rendered?: RenderedMessage;
    problem?: string;
    missing: string[];
  }[] = [];
  for (const channel of CHANNELS) {
    const context = await loadCompanyContext(app.sql, company.id, channel);
    const renderer = createRenderer({ strict: false });
    try {
      const input = renderInput(context, messageFor(channel));
      const t = input.template;
      results.push({
        channel,
        template: `${t.scope} ${t.name} (${t.language}) v${t.version}`,
        rendered: renderer.render(input),
        missing: renderer.missing(),
      });
    } catch (err) {
      if (!(err instanceof RenderProblem)) throw err;
      results.push({ channel, problem: err.message, missing: [] });
    }
  }
  print(!!opts.json, results, () =>
    results.flatMap((r) => [
      `${r.channel}: ${r.template ?? r.problem}`,
      ...(r.rendered ? describeRendered(r.rendered) : []),
      ...(r.missing.length ? [`  missing (rendered empty): ${r.missing.join(', ')}`] : []),
    ]),
  );
  return results.some((r) => r.rendered) ? EXIT.ok : EXIT.failed;
}

export function registerTemplateCommands(program: Command): void {
  const template = program
    .command('template')
    .alias('templates')
    .description('message templates: save versions, list and show them, check and preview them');
  template
    .command('validate')
    .description(
      'check a template file (JSON, one or a list; or plain text with --channel): syntax, functions, formats, fields',
    )
    .argument('<file>', 'the template file')
    .option('--channel <channel>', 'sms | voice | email, for a plain-text file')
    .option('--company <alias>', "check data fields against the company's active load maps")
    .option('--json', 'print the result as JSON')
    .action(async (file: string, o: { channel?: string; company?: string; json?: boolean }) => {
      if (o.company) return withApp({}, (app) => validateFile(file, o, app));
      try {
        process.exit(await validateFile(file, o));
      } catch (err) {
        process.stderr.write(`herald: ${(err as Error).message}\n`);
        process.exit(err instanceof UsageError ? EXIT.usage : EXIT.failed);
      }
    });
  template
    .command('preview')
    .description(
      "render a company's template on every channel for a contact or given data, with SMS segment counts",
    )
    .requiredOption('--company <alias>', 'the company alias')
    .requiredOption('--template <name>', 'the template name, e.g. appointment_reminder')
    .option('--contact <id>', "a contact's id: its latest message data is used")
    .option(
      '--data <json>',
      'the message data as JSON, e.g. {"first_name":"ann","appointment_date":"2030-03-05T14:30:00Z"}',
    )
    .option('--json', 'print as JSON')
    .action((o: { company: string; template: string; contact?: string; data?: string; json?: boolean }) =>
      withApp({}, (app) => preview(app, o)),
    );
  registerTemplateVersionCommands(template);
}
