// `herald loadmap add|list|show|diff`: a company's load maps as versions in the database, recorded from files.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { App } from '../../lib/app';
import { describeJsonChanges, diffJson } from '../../lib/load-maps/diff';
import { loadMapProblems } from '../../lib/load-maps/files';
import { LoadMapNotFound, resolveLoadMapRef } from '../../lib/load-maps/refs';
import { listLoadMapVersions, recordLoadMapVersion } from '../../lib/load-maps/store';
import { changeFlags, makeChange, printChange, type ChangeFlags } from '../change-kit';
import { loadMapSchema } from '../../schemas/load-map';
import { companyByAlias, EXIT, print, UsageError, withApp } from '../cli-kit';

/**
 * A load map by reference (`name`, `name@version`) among the company's stored ones, or from a .json file
 * (to try a map before it is recorded).
 */
export async function mapByReference(
  app: App,
  company: { id: number; alias: string },
  reference: string,
): Promise<{ raw: unknown; label: string }> {
  if (reference.endsWith('.json')) {
    const text = await readFile(reference, 'utf8').catch((err: Error) => {
      throw new UsageError(`cannot read ${reference}: ${err.message}`);
    });
    const { map, problems } = loadMapProblems(text);
    if (problems.length > 0 || !map)
      throw new UsageError(`${reference} is not a valid load map: ${problems.join('; ')}`);
    return { raw: map, label: path.basename(reference) };
  }
  try {
    const found = await resolveLoadMapRef(app.sql, company.id, company.alias, reference);
    return { raw: found.loadMap, label: `${found.name} v${found.version}` };
  } catch (err) {
    if (err instanceof LoadMapNotFound) throw new UsageError(err.message);
    throw err;
  }
}

async function add(app: App, file: string, o: ChangeFlags & { company?: string }): Promise<number> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new UsageError(`cannot read ${file}: ${err.message}`);
  });
  const { map, problems } = loadMapProblems(text);
  if (problems.length > 0 || !map) {
    print(!!o.json, { file, valid: false, problems }, () => [
      `${file}: invalid, nothing recorded`,
      ...problems.map((p) => `  ${p}`),
    ]);
    return EXIT.failed;
  }
  const alias = o.company ?? map.company;
  if (!alias) throw new UsageError(`name the company with --company (or "company" in ${file})`);
  if (map.company && o.company && map.company !== o.company)
    throw new UsageError(`${file} says it is company ${map.company}'s map, not ${o.company}'s`);
  const company = await companyByAlias(app, alias);
  const outcome = await makeChange(app, o, async (tx) => ({
    company: alias,
    ...(await recordLoadMapVersion(tx, company.id, map)),
  }));
  printChange(o, outcome, (r) => [
    r.changed
      ? `load map ${r.name} of ${alias}: version ${r.version} ${outcome.applied ? 'recorded' : 'would be recorded'}, active` +
        (r.version > 1
          ? ` (earlier versions stay for the packets, replays and sources that name them as ${r.name}@N)`
          : '')
      : `load map ${r.name} of ${alias}: unchanged, version ${r.version} already has this content`,
    `  use it as ${r.name} (follows new versions) or ${r.name}@${r.version} (this version only)`,
  ]);
  return EXIT.ok;
}

async function list(app: App, o: { company: string; json?: boolean }): Promise<number> {
  const company = await companyByAlias(app, o.company);
  const versions = await listLoadMapVersions(app.sql, company.id);
  print(!!o.json, versions, () =>
    versions.length === 0
      ? [`${o.company} has no load maps: record one with herald loadmap add FILE --company ${o.company}`]
      : versions.map(
          (v) =>
            `${`${v.name}@${v.version}`.padEnd(28)} ${v.active ? 'active  ' : 'inactive'} ${String(v.fields).padStart(2)} fields ` +
            `${String(v.packets).padStart(5)} packets  ${v.createdAt.toISOString().slice(0, 16)}` +
            `${v.sources.length ? `  sources: ${v.sources.join(', ')}` : ''}`,
        ),
  );
  return EXIT.ok;
}

async function show(app: App, reference: string, o: { company: string; json?: boolean }): Promise<number> {
  const company = await companyByAlias(app, o.company);
  try {
    const found = await resolveLoadMapRef(app.sql, company.id, company.alias, reference);
    print(!!o.json, found, () => [
      `${found.name}@${found.version} of ${o.company} (${found.active ? 'active' : 'inactive'}, recorded ${found.createdAt.toISOString()})`,
      JSON.stringify(found.loadMap, null, 2),
    ]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof LoadMapNotFound) throw new UsageError(err.message);
    throw err;
  }
}

async function diff(
  app: App,
  before: string,
  after: string,
  o: { company: string; json?: boolean },
): Promise<number> {
  const company = await companyByAlias(app, o.company);
  const a = await mapByReference(app, company, before);
  const b = await mapByReference(app, company, after);
  // compared as the schema reads them, so a default written out in one and left out in the other is no difference
  const read = (raw: unknown) => {
    const parsed = loadMapSchema.safeParse(raw);
    return parsed.success ? parsed.data : raw;
  };
  const changes = diffJson(read(a.raw), read(b.raw));
  print(!!o.json, { before: a.label, after: b.label, changes }, () => [
    `${a.label} -> ${b.label}: ${changes.length ? `${changes.length} difference(s)` : 'the same'}`,
    ...describeJsonChanges(changes).map((line) => `  ${line}`),
  ]);
  return EXIT.ok;
}

export function registerLoadMapVersionCommands(loadmap: Command): void {
  changeFlags(
    loadmap
      .command('add')
      .description(
        "record a load map file as the newest version of the company's map of its name (checked first; the same content again records nothing)",
      )
      .argument('<file>', 'a load map JSON file')
      .option('--company <alias>', 'the company (or "company" in the file)'),
  ).action((file: string, o: ChangeFlags & { company?: string }) => withApp({}, (app) => add(app, file, o)));
  loadmap
    .command('list')
    .description(
      "a company's load maps: every version, which is active, packets read with it, sources naming it",
    )
    .requiredOption('--company <alias>', 'the company')
    .option('--json', 'print as JSON')
    .action((o: { company: string; json?: boolean }) => withApp({}, (app) => list(app, o)));
  loadmap
    .command('show')
    .description('one stored load map as JSON: name (the active version) or name@version')
    .argument('<ref>', 'name or name@version')
    .requiredOption('--company <alias>', 'the company')
    .option('--json', 'print as JSON')
    .action((ref: string, o: { company: string; json?: boolean }) => withApp({}, (app) => show(app, ref, o)));
  loadmap
    .command('diff')
    .description('what differs between two load maps: stored versions (name, name@version) or .json files')
    .argument('<before>', 'name, name@version or a .json file')
    .argument('<after>', 'name, name@version or a .json file')
    .requiredOption('--company <alias>', 'the company whose stored maps the references name')
    .option('--json', 'print as JSON')
    .action((before: string, after: string, o: { company: string; json?: boolean }) =>
      withApp({}, (app) => diff(app, before, after, o)),
    );
}
