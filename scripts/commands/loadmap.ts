// `herald loadmap validate|preview|suggest|add|list|show|diff`: check a load map, see how it reads a file, keep its versions.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { App } from '../../lib/app';
import { ConfigError } from '../../lib/config';
import { compileLoadMap, InvalidLoadMap, type CompiledMap } from '../../lib/load-maps/compile';
import { IngestProblem } from '../../lib/ingest/errors';
import { loadLocationZones, locationTimezoneOf } from '../../lib/ingest/packet-context';
import { bindMapper, type MappedRow } from '../../lib/ingest/row-mapper';
import { withSheetRead } from '../../lib/ingest/stage-rows';
import { openRows, ParseError } from '../../lib/parse';
import { loadMapProblems } from '../../lib/load-maps/files';
import { companyByAlias, EXIT, print, UsageError, withApp } from '../cli-kit';
import { registerLoadMapSuggestCommand } from './loadmap-suggest';
import { mapByReference, registerLoadMapVersionCommands } from './loadmap-versions';

async function validate(file: string, json: boolean): Promise<number> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new UsageError(`cannot read ${file}: ${err.message}`);
  });
  const { map, problems } = loadMapProblems(text);
  const fields = map ? Object.keys(map.fields) : [];
  print(
    json,
    {
      file,
      valid: problems.length === 0,
      name: map?.name ?? null,
      company: map?.company ?? null,
      fields,
      problems,
    },
    () =>
      problems.length === 0
        ? [
            `${file}: valid: load map ${map!.name}${map!.company ? ` of ${map!.company}` : ''}, ${fields.length} fields (${fields.join(', ')})`,
          ]
        : [`${file}: invalid`, ...problems.map((p) => `  ${p}`)],
  );
  return problems.length === 0 ? EXIT.ok : EXIT.failed;
}

/** A command that needs no servers: exit codes as withApp gives them. */
export async function standalone(fn: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await fn();
  } catch (err) {
    code = err instanceof UsageError || err instanceof ConfigError ? EXIT.usage : EXIT.failed;
    process.stderr.write(`herald: ${(err as Error).message}\n`);
  }
  process.exit(code);
}

interface PreviewOptions {
  company: string;
  map: string;
  rows: string;
  json?: boolean;
}

function describeRow(mapped: MappedRow, rowNumber: number): string[] {
  if (!mapped.ok) {
    return mapped.rejects.map((r, i) => {
      // most reasons quote the value already
      const value =
        r.rawValue === null || r.reason.includes(JSON.stringify(r.rawValue))
          ? ''
          : `${JSON.stringify(r.rawValue)} `;
      return `${i === 0 ? `row ${rowNumber}`.padEnd(9) : ' '.repeat(9)}REJECT  ${r.column ? `${r.column}: ` : ''}${value}${r.reason}`;
    });
  }
  const r = mapped.row;
  const when = r.startsAt ? `${r.startsAt} (${r.appointmentTimezone})` : 'no appointment';
  const extras = [r.provider, r.location, r.state, r.zip].filter(Boolean).join(', ');
  return [
    `${`row ${rowNumber}`.padEnd(9)}ok      ${r.firstName} ${r.lastName}  ${r.phone ?? '-'}  ${r.email ?? '-'}  ${when}${extras ? `  ${extras}` : ''}`,
  ];
}

async function preview(app: App, file: string, o: PreviewOptions): Promise<number> {
  const limit = Number(o.rows);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--rows must be a whole number above 0');
  const company = await companyByAlias(app, o.company);
  const { raw, label } = await mapByReference(app, company, o.map);
  let compiled: CompiledMap;
  try {
    compiled = compileLoadMap(raw, label);
  } catch (err) {
    if (err instanceof InvalidLoadMap) throw new UsageError(err.message);
    throw err;
  }
  const zones = await loadLocationZones(app.sql, company.id);
  const format = compiled.map.format;
  const results: { rowNumber: number; mapped: MappedRow }[] = [];
  let headers: readonly string[] = [];
  try {
    const reader = await openRows(createReadStream(file), {
      format: format.kind,
      filename: file,
      csv: { delimiter: format.delimiter, encoding: format.encoding },
      xlsx: { sheet: format.sheet },
    });
    headers = reader.headers;
    try {
      let mapRow;
      try {
        mapRow = bindMapper(compiled, reader.headers, {
          companyTimezone: company.timezone,
          locationTimezone: locationTimezoneOf(zones),
        });
      } catch (err) {
        throw withSheetRead(err, reader, format.sheet);
      }
      for await (const row of reader.rows()) {
        results.push({ rowNumber: row.rowNumber, mapped: mapRow(row) });
        if (results.length >= limit) break;
      }
    } finally {
      await reader.close();
    }
  } catch (err) {
    if (!(err instanceof ParseError || err instanceof IngestProblem)) throw err;
    print(!!o.json, { file, map: label, valid: false, error: err.message, headers }, () => [
      `${file}: cannot be read with ${label}: ${err.message}`,
    ]);
    return EXIT.failed;
  }
  const rejected = results.filter((r) => !r.mapped.ok).length;
  print(
    !!o.json,
    {
      file,
      map: label,
      headers,
      rows: results.map((r) => ({ rowNumber: r.rowNumber, ...r.mapped })),
      shown: results.length,
      rejected,
    },
    () => [
      `${file} read with ${label} (${o.company}, ${company.timezone}); columns: ${headers.join(', ')}`,
      ...results.flatMap((r) => describeRow(r.mapped, r.rowNumber)),
      `${results.length} rows shown, ${results.length - rejected} ok, ${rejected} rejected`,
    ],
  );
  return EXIT.ok;
}

export function registerLoadMapCommands(program: Command): void {
  const loadmap = program
    .command('loadmap')
    .description("check load maps, preview how they read a file, keep a company's versions of them");
  loadmap
    .command('validate')
    .description(
      'check a load map file: its JSON, the schema (with the path of each problem), and its cleaning rules and options',
    )
    .argument('<file>', 'a load map JSON file')
    .option('--json', 'print as JSON')
    .action((file: string, o: { json?: boolean }) => standalone(() => validate(file, !!o.json)));
  loadmap
    .command('preview')
    .description(
      "the first rows of a data file mapped and cleaned with a company's load map, and the rejects with their reasons",
    )
    .argument('<datafile>', 'a CSV, XLSX, JSON or NDJSON file')
    .requiredOption('--company <alias>', 'the company (its time zone and locations)')
    .requiredOption('--map <ref>', "the company's load map (name or name@version), or a load map .json file")
    .option('--rows <n>', 'how many rows to show', '10')
    .option('--json', 'print as JSON')
    .action((file: string, o: PreviewOptions) => withApp({}, (app) => preview(app, file, o)));
  registerLoadMapSuggestCommand(loadmap);
  registerLoadMapVersionCommands(loadmap);
}
