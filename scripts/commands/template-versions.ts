// `herald templates set|list|show`: save a template as a new version (checked first, previewed after), see them.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { App } from '../../lib/app';
import { loadCompanyContext, type StoredTemplate } from '../../lib/messages/load';
import {
  createRenderer,
  previewMessage,
  renderInput,
  RenderProblem,
  type RenderedMessage,
} from '../../lib/render/render-message';
import type { Channel } from '../../lib/providers/types';
import { STEP_DATA_FIELDS } from '../../lib/messages/due-steps';
import { checkTemplate, parseTemplateFile, TemplateFileError } from '../../lib/tenants/template-files';
import {
  listTemplates,
  saveTemplateVersion,
  templateVersions,
  type TemplateText,
} from '../../lib/tenants/templates';
import { changeFlags, makeChange, printChange, type ChangeFlags } from '../change-kit';
import { companyByAlias, EXIT, print, UsageError, withApp } from '../cli-kit';

interface SetFlags extends ChangeFlags {
  company?: string;
  global?: boolean;
  channel?: string;
  name?: string;
  language?: string;
  data?: string;
}

/** A message's data as planning makes it, with made-up values, two days ahead: what a preview shows. */
function sampleData(): Record<string, unknown> {
  const at = new Date(Date.now() + 2 * 86_400_000);
  at.setUTCHours(14, 30, 0, 0);
  return {
    first_name: 'Maria',
    last_name: 'Gonzalez',
    appointment_date: at.toISOString().replace('.000Z', 'Z'),
    provider: 'Dr. Ana Alvarez',
    location: 'Main Office',
  };
}

export function describeRendered(r: RenderedMessage): string[] {
  if (r.channel === 'sms') {
    const replaced = r.replaced
      .map((x) => `${JSON.stringify(x.char)} -> ${JSON.stringify(x.replacement)}`)
      .join(', ');
    return [
      `  ${r.segments} segment(s), ${r.encoding}${replaced ? `; replaced ${replaced}` : ''}`,
      `  ${r.body}`,
    ];
  }
  if (r.channel === 'voice') return [`  says: ${r.spokenText}`, `  TwiML: ${r.twiml}`];
  return [`  subject: ${r.subject}`, `  text: ${r.text.replace(/\n/g, '\n        ')}`, `  html: ${r.html}`];
}

/** The template rendered as it would be sent for the company, without storing it first. */
async function previewText(
  app: App,
  companyId: number,
  t: TemplateText,
  data: Record<string, unknown>,
): Promise<{ rendered?: RenderedMessage; problem?: string; missing: string[] }> {
  const context = await loadCompanyContext(app.sql, companyId, t.channel);
  const candidate: StoredTemplate = {
    id: 0,
    scope: 'company',
    companyId,
    customerId: null,
    channel: t.channel,
    name: t.name,
    language: t.language,
    version: 1,
    subject: t.subject ?? null,
    body: t.body,
    htmlBody: t.html_body ?? null,
    details: t.snippets ? { snippets: t.snippets } : {},
  };
  const renderer = createRenderer({ strict: false });
  try {
    const message = previewMessage({
      companyId,
      channel: t.channel,
      templateName: t.name,
      data,
      contact: { language: t.language },
    });
    const rendered = renderer.render(renderInput({ ...context, templates: [candidate] }, message));
    return { rendered, missing: renderer.missing() };
  } catch (err) {
    if (!(err instanceof RenderProblem)) throw err;
    return { problem: err.message, missing: [] };
  }
}

async function set(app: App, file: string, o: SetFlags): Promise<number> {
  if (!!o.company === !!o.global) throw new UsageError('give --company ALIAS, or --global for every company');
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new UsageError(`cannot read ${file}: ${err.message}`);
  });
  let templates: TemplateText[];
  try {
    templates = parseTemplateFile(file, text, o);
  } catch (err) {
    if (err instanceof TemplateFileError) throw new UsageError(err.message);
    throw err;
  }
  const company = o.company ? await companyByAlias(app, o.company) : undefined;
  let fields: string[] | undefined;
  if (company) {
    const maps = await app.sql<{ load_map: { fields?: Record<string, unknown> } }[]>`
      select load_map from company_load_maps where company_id = ${company.id} and active`;
    if (maps.length)
      fields = [
        ...new Set([...STEP_DATA_FIELDS, ...maps.flatMap((m) => Object.keys(m.load_map.fields ?? {}))]),
      ];
  }
  const issues = templates.flatMap((t) => checkTemplate(t, fields));
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length) {
    print(!!o.json, { file, saved: false, issues }, () => [
      `${file}: ${errors.length} error(s); nothing was saved`,
      ...issues.map((i) => `  ${i.severity} in ${i.template} ${i.part}: ${i.message}`),
    ]);
    return EXIT.failed;
  }
  let data = sampleData();
  if (o.data) {
    try {
      data = JSON.parse(o.data) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`--data is not JSON: ${(err as Error).message}`);
    }
  }
  const outcome = await makeChange(app, o, async (tx) => ({
    saved: await Promise.all(templates.map((t) => saveTemplateVersion(tx, company?.id ?? null, t))),
  }));
  const previews = company
    ? await Promise.all(
        templates.map(async (t) => ({
          template: t.name,
          channel: t.channel,
          ...(await previewText(app, company.id, t, data)),
        })),
      )
    : [];
  printChange(o, { ...outcome, result: { ...outcome.result, warnings: issues, previews } }, (r) => [
    ...r.saved.map(
      (t) =>
        `${t.channel} ${t.name} (${t.language}) of ${company ? o.company : 'every company'}: ` +
        (t.changed
          ? `version ${t.version} ${outcome.applied ? 'saved' : 'would be saved'}, sent from now on`
          : `unchanged (version ${t.version})`),
    ),
    ...issues.map((i) => `  ${i.severity} in ${i.template} ${i.part}: ${i.message}`),
    ...previews.flatMap((p) => [
      `preview of ${p.channel} ${p.template} with ${o.data ? 'the given data' : 'sample data'}:`,
      ...(p.rendered ? describeRendered(p.rendered) : [`  cannot render: ${p.problem}`]),
      ...(p.missing.length ? [`  missing (rendered empty): ${p.missing.join(', ')}`] : []),
    ]),
  ]);
  return EXIT.ok;
}

export function registerTemplateVersionCommands(template: Command): void {
  changeFlags(
    template
      .command('set')
      .description(
        "save a template file as the newest version of a company's (or the global) template: checked first, previewed after",
      )
      .argument('<file>', 'JSON (one template or a list) or plain text with --channel')
      .option('--company <alias>', 'the company the template is for')
      .option('--global', 'a global template, for every company without its own')
      .option('--channel <channel>', 'sms | voice | email, for a plain-text file')
      .option('--name <name>', 'the template name for a plain-text file (default: the file name)')
      .option('--language <tag>', 'the language of a plain-text file (default en)')
      .option('--data <json>', 'message data for the preview instead of sample data'),
  ).action((file: string, o: SetFlags) => withApp({}, (app) => set(app, file, o)));
  template
    .command('list')
    .description(
      "the templates a company's messages can use (its own and the global ones), with the version sent",
    )
    .requiredOption('--company <alias>', 'the company')
    .option('--json', 'print as JSON')
    .action((o: { company: string; json?: boolean }) =>
      withApp({}, async (app) => {
        const company = await companyByAlias(app, o.company);
        const rows = await listTemplates(app.sql, company.id);
        print(!!o.json, rows, () =>
          rows.length
            ? rows.map(
                (t) =>
                  `${t.name.padEnd(28)} ${t.channel.padEnd(5)} ${t.language.padEnd(5)} ${t.scope.padEnd(8)} ` +
                  `v${t.version ?? '-'} of ${t.versions}  ${t.updatedAt.toISOString().slice(0, 16)}`,
              )
            : ['no templates'],
        );
      }),
    );
  template
    .command('show')
    .description("one template's versions, newest first (the company's own, then the global one)")
    .argument('<name>', 'the template name')
    .requiredOption('--company <alias>', 'the company')
    .option('--channel <channel>', 'only this channel')
    .option('--language <tag>', 'only this language')
    .option('--json', 'print as JSON')
    .action((name: string, o: { company: string; channel?: Channel; language?: string; json?: boolean }) =>
      withApp({}, async (app) => {
        const company = await companyByAlias(app, o.company);
        const versions = await templateVersions(app.sql, company.id, {
          name,
          channel: o.channel,
          language: o.language,
        });
        if (!versions.length) throw new UsageError(`${o.company} has no template named "${name}"`);
        print(!!o.json, versions, () =>
          versions.flatMap((v) => [
            `${v.channel} ${v.name} (${v.language}) ${v.scope} v${v.version}${v.active ? '' : ' (inactive)'}, ${v.createdAt.toISOString().slice(0, 16)}`,
            ...(v.subject ? [`  subject: ${v.subject}`] : []),
            `  ${v.body.replace(/\n/g, '\n  ')}`,
          ]),
        );
      }),
    );
}
