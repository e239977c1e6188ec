// `herald sources add|list|run`: a company's feeds (S3, SFTP, HTTPS API), their discovery schedules, and discovery on demand.
import { readFile } from 'node:fs/promises';
import { WorkflowFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import type { App } from '../../lib/app';
import { startDiscovery } from '../../lib/sources/run-discovery';
import { isInterval, syncDiscoverySchedule } from '../../lib/sources/schedule';
import { envTemplate } from '../../lib/sources/secrets';
import { findSourceByName, listSources, saveSource, SourceConfigError } from '../../lib/sources/store';
import { SCHEDULE_IDS } from '../../lib/names';
import { workflowUiUrl } from '../../lib/temporal';
import type { EnvRef, IngestSourceInput } from '../../schemas/ingest-source';
import type { DiscoveryTotals } from '../../workflows/discover-source';
import { EXIT, print, UsageError, withApp } from '../cli-kit';

interface AddOptions {
  company?: string;
  file?: string;
  name?: string;
  kind?: string;
  schedule?: string;
  loadMap?: string;
  refreshMode?: string;
  onDrift?: string;
  onGarbledText?: string;
  inactive?: boolean;
  json?: boolean;
  // s3
  bucket?: string;
  prefix?: string;
  glob?: string;
  endpoint?: string;
  region?: string;
  accessKeyIdEnv?: string;
  secretAccessKeyEnv?: string;
  // sftp
  host?: string;
  port?: string;
  user?: string;
  passwordEnv?: string;
  privateKeyEnv?: string;
  privateKeyFile?: string;
  passphraseEnv?: string;
  hostKey?: string;
  dir?: string;
  // api
  url?: string;
  header: string[];
  query: string[];
  format?: string;
  caFile?: string;
  timeout?: string;
  maxFileMb?: string;
}

const collect = (value: string, all: string[]) => [...all, value];

function pairs(list: string[], separator: string, what: string): Record<string, string | EnvRef> {
  const out: Record<string, string | EnvRef> = {};
  for (const item of list) {
    const at = item.indexOf(separator);
    if (at <= 0) throw new UsageError(`${what} "${item}" must look like name${separator}value`);
    out[item.slice(0, at).trim()] = envTemplate(item.slice(at + 1).trim());
  }
  return out;
}

const clean = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function definitionFromFlags(o: AddOptions): Record<string, unknown> {
  if (!o.name || !o.kind)
    throw new UsageError('give --name and --kind (s3, sftp, api), or --file with the whole definition');
  const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const config =
    o.kind === 's3'
      ? {
          bucket: o.bucket,
          prefix: o.prefix,
          glob: o.glob,
          endpoint: o.endpoint,
          region: o.region,
          accessKeyIdEnv: o.accessKeyIdEnv,
          secretAccessKeyEnv: o.secretAccessKeyEnv,
        }
      : o.kind === 'sftp'
        ? {
            host: o.host,
            port: number(o.port),
            username: o.user,
            passwordEnv: o.passwordEnv,
            privateKeyEnv: o.privateKeyEnv,
            privateKeyFile: o.privateKeyFile,
            passphraseEnv: o.passphraseEnv,
            hostKeySha256: o.hostKey,
            directory: o.dir,
            glob: o.glob,
            maxFileMB: number(o.maxFileMb),
          }
        : o.kind === 'api'
          ? {
              url: o.url,
              headers: pairs(o.header, ':', 'header'),
              query: pairs(o.query, '=', 'query parameter'),
              format: o.format,
              caFile: o.caFile,
              timeoutSeconds: number(o.timeout),
              maxFileMB: number(o.maxFileMb),
            }
          : {};
  return clean({
    name: o.name,
    kind: o.kind,
    config: clean(config),
    schedule: o.schedule,
    loadMap: o.loadMap,
    refreshMode: o.refreshMode,
    onDrift: o.onDrift,
    onGarbledText: o.onGarbledText,
    active: o.inactive ? false : undefined,
  });
}

async function add(app: App, o: AddOptions): Promise<number> {
  let definition: Record<string, unknown>;
  if (o.file) {
    const text = await readFile(o.file, 'utf8').catch((err: Error) => {
      throw new UsageError(`cannot read ${o.file}: ${err.message}`);
    });
    try {
      definition = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`${o.file} is not valid JSON (${(err as Error).message})`);
    }
  } else definition = definitionFromFlags(o);
  const { company: fromFile, ...rest } = definition;
  const company = o.company ?? (typeof fromFile === 'string' ? fromFile : undefined);
  if (!company) throw new UsageError('name the company with --company (or "company" in the file)');
  let saved;
  try {
    saved = await saveSource(app.sql, company, rest as IngestSourceInput, app.config.actor);
  } catch (err) {
    if (err instanceof SourceConfigError) throw new UsageError(err.message);
    throw err;
  }
  const { source, created } = saved;
  const [zone] = await app.sql<
    { timezone: string }[]
  >`select timezone from companies where id = ${source.companyId}`;
  const timezone = zone!.timezone;
  const schedule = await syncDiscoverySchedule(await app.client(), source, { timezone });
  print(!!o.json, { source, created, schedule, scheduleId: SCHEDULE_IDS.discoverSource(source.uuid) }, () => [
    `source ${source.companyAlias}/${source.name} (${source.kind}) ${created ? 'added' : 'updated'}: ${source.uuid}`,
    source.schedule
      ? `schedule ${schedule}: ${SCHEDULE_IDS.discoverSource(source.uuid)} runs discovery ${isInterval(source.schedule) ? `every ${source.schedule}` : `at "${source.schedule}" (${timezone})`}${source.active ? '' : ', paused while the source is inactive'}`
      : `no schedule${schedule === 'deleted' ? ' (the old one was removed)' : ''}: run discovery with herald sources run ${source.name} --company ${source.companyAlias}`,
  ]);
  return EXIT.ok;
}

async function list(app: App, o: { company?: string; json?: boolean }): Promise<number> {
  const sources = await listSources(app.sql, o.company);
  print(!!o.json, sources, () =>
    sources.length === 0
      ? [`no sources${o.company ? ` for ${o.company}` : ''}`]
      : sources.map(
          (s) =>
            `${s.companyAlias}/${s.name}  ${s.kind}  ${s.schedule ?? 'on demand'}  map ${s.loadMap ?? '(default)'}  ${s.refreshMode}  drift ${s.onDrift}  garbled text ${s.onGarbledText}` +
            `${s.active ? '' : '  INACTIVE'}  ${s.packets} packets${s.lastPacketAt ? `, last ${s.lastPacketAt.toISOString()}` : ''}  ${s.uuid}`,
        ),
  );
  return EXIT.ok;
}

async function run(
  app: App,
  name: string,
  o: { company: string; wait: boolean; json?: boolean },
): Promise<number> {
  const source = await findSourceByName(app.sql, o.company, name).catch((err: unknown) => {
    if (err instanceof SourceConfigError) throw new UsageError(err.message);
    throw err;
  });
  if (!source)
    throw new UsageError(
      `company ${o.company} has no source named "${name}" (see herald sources list --company ${o.company})`,
    );
  if (source.kind === 'upload')
    throw new UsageError(`${name} takes files from herald upload; it has nothing to discover`);
  const handle = await startDiscovery(await app.client(), source);
  const link = workflowUiUrl(app.temporal, handle.workflowId) ?? '';
  if (!o.wait) {
    print(!!o.json, { workflowId: handle.workflowId, workflowUrl: link }, () => [
      `discovery started: ${handle.workflowId}`,
      link,
    ]);
    return EXIT.ok;
  }
  try {
    const totals = await handle.result();
    print(!!o.json, { workflowId: handle.workflowId, workflowUrl: link, ...totals }, () =>
      describeTotals(totals, link),
    );
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause as (Error & { details?: unknown[] }) | undefined;
    const totals = cause?.details?.[0] as DiscoveryTotals | undefined;
    print(
      !!o.json,
      { workflowId: handle.workflowId, workflowUrl: link, error: cause?.message ?? err.message, ...totals },
      () => [
        `discovery failed: ${cause?.message ?? err.message}`,
        ...(totals ? describeTotals(totals, link) : [link]),
      ],
    );
    return EXIT.failed;
  }
}

function describeTotals(t: DiscoveryTotals, link: string): string[] {
  return [
    `listed ${t.listed}, new packets ${t.admitted}, skipped ${t.skipped} (already received or not matching), failed ${t.failed}`,
    ...t.packets.map((p) => `  packet ${p}`),
    ...t.failures.map((f) => `  failed ${f.file}: ${f.error}`),
    link,
  ];
}

export function registerSourceCommands(program: Command): void {
  const sources = program
    .command('sources')
    .description("a company's ingest sources (S3, SFTP, HTTPS API) and their discovery");
  sources
    .command('add')
    .description(
      'add a source, or replace the definition of the one with that name, and create or update its schedule',
    )
    .option('--company <alias>', 'the company (or "company" in --file)')
    .option(
      '--file <json>',
      'the whole definition as JSON: {"name", "kind", "config", "schedule", "loadMap", "refreshMode", "onDrift", "onGarbledText"}',
    )
    .option('--name <name>', 'the source name, unique per company')
    .option('--kind <kind>', 's3 | sftp | api')
    .option(
      '--schedule <when>',
      'discovery interval (15m, 1h, 1d) or a cron expression in the company time zone',
    )
    .option(
      '--load-map <ref>',
      "the company's load map for this source's files: name (follows new versions) or name@version",
    )
    .option(
      '--refresh-mode <mode>',
      'append (default) | full_refresh: a file replaces the appointments of earlier ones',
    )
    .option(
      '--on-drift <what>',
      'hold (default): a file whose header differs from the map waits for an operator; evolve: it loads, new columns kept as extras',
    )
    .option(
      '--on-garbled-text <what>',
      'warn (default): text that looks like UTF-8 read as Windows-1252 loads with a warning; hold: the packet waits',
    )
    .option('--inactive', 'add it paused')
    .option('--bucket <bucket>', 's3: the bucket')
    .option('--prefix <prefix>', 's3: the key prefix')
    .option('--glob <glob>', 's3/sftp: file names to take, e.g. "*.csv"')
    .option('--endpoint <url>', 's3: another S3-compatible server')
    .option('--region <region>', 's3: its region')
    .option('--access-key-id-env <VAR>', 's3: env variable with the access key id')
    .option('--secret-access-key-env <VAR>', 's3: env variable with the secret key')
    .option('--host <host>', 'sftp: server')
    .option('--port <port>', 'sftp: port (22)')
    .option('--user <user>', 'sftp: user name')
    .option('--password-env <VAR>', 'sftp: env variable with the password')
    .option('--private-key-env <VAR>', 'sftp: env variable with the private key (PEM/OpenSSH)')
    .option('--private-key-file <path>', 'sftp: file with the private key')
    .option('--passphrase-env <VAR>', "sftp: env variable with the key's passphrase")
    .option('--host-key <SHA256:...>', "sftp: the server's host key fingerprint, as ssh-keygen -lf prints it")
    .option('--dir <path>', 'sftp: remote directory')
    .option('--url <url>', 'api: https URL')
    .option(
      '--header <header>',
      'api: "Name: value", secrets as "Authorization: Bearer {env:HERALD_SECRET_ACME_API_TOKEN}" (repeatable)',
      collect,
      [],
    )
    .option(
      '--query <param>',
      'api: "name=value" or "api_key={env:HERALD_SECRET_ACME_API_KEY}" (repeatable)',
      collect,
      [],
    )
    .option('--format <format>', 'api: csv | json | ndjson')
    .option('--ca-file <pem>', "api: the server's private CA")
    .option('--timeout <seconds>', 'api: request timeout')
    .option('--max-file-mb <MB>', 'sftp/api: the largest file taken in (default SOURCE_MAX_FILE_MB)')
    .option('--json', 'print as JSON')
    .action((o: AddOptions) => withApp({}, (app) => add(app, o)));
  sources
    .command('list')
    .description('list sources with their schedule, load map and packets')
    .option('--company <alias>', 'only this company')
    .option('--json', 'print as JSON')
    .action((o: { company?: string; json?: boolean }) => withApp({}, (app) => list(app, o)));
  sources
    .command('run')
    .description("run a source's discovery now (needs a running worker: npm start or npm run worker)")
    .argument('<name>', 'the source name')
    .requiredOption('--company <alias>', 'the company')
    .option('--no-wait', 'return once discovery has started')
    .option('--json', 'print as JSON')
    .action((name: string, o: { company: string; wait: boolean; json?: boolean }) =>
      withApp({}, (app) => run(app, name, o)),
    );
}
