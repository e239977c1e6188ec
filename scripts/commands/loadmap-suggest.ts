// `herald loadmap suggest`: a proposed load map for an export (a local file, or a held packet's), with each column's evidence.
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import type { App } from '../../lib/app';
import { loadMapProblems } from '../../lib/load-maps/files';
import type { Assignment } from '../../lib/load-maps/suggest';
import { suggestForFile } from '../../lib/load-maps/suggest/sample';
import { findPacket, PacketNotFound } from '../../lib/packet-ops/read';
import { ParseError, type ByteSource } from '../../lib/parse';
import { companyByAlias, EXIT, print, UsageError, withApp } from '../cli-kit';

interface SuggestOptions {
  company?: string;
  packet?: string;
  name?: string;
  sheet?: string;
  rows: string;
  out?: string;
  json?: boolean;
}

/** A map name from a file name: "Appointments 2027-03.csv" -> "appointments-2027-03". */
function nameFrom(file: string): string {
  const base = path
    .basename(file, path.extname(file))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|-+$/g, '');
  return (base || 'suggested').slice(0, 63);
}

/** Where the file comes from: a local path, or the raw file of a packet (a held one, typically). */
async function fileToRead(
  app: App,
  file: string | undefined,
  o: SuggestOptions,
): Promise<{ open: () => ByteSource; label: string; company: string; name: string }> {
  if (o.packet) {
    let packet;
    try {
      packet = await findPacket(app.sql, o.packet);
    } catch (err) {
      if (err instanceof PacketNotFound) throw new UsageError(err.message);
      throw err;
    }
    if (o.company && o.company !== packet.company_alias)
      throw new UsageError(`packet ${o.packet} is ${packet.company_alias}'s, not ${o.company}'s`);
    // the map it was read with, so that `loadmap add` makes the suggestion that map's next version
    const [current] = await app.sql<{ name: string }[]>`
      select name from company_load_maps where id = ${packet.load_map_id ?? 0} and company_id = ${packet.company_id}`;
    const label = packet.original_name ?? packet.object_key.split('/').pop()!;
    return {
      open: () =>
        (async function* () {
          const object = await app.s3.send(
            new GetObjectCommand({ Bucket: app.bucket, Key: packet.object_key }),
          );
          yield* object.Body as Readable;
        })(),
      label,
      company: packet.company_alias,
      name: o.name ?? current?.name ?? nameFrom(label),
    };
  }
  if (!file) throw new UsageError("give the data file, or --packet ID for a packet's file");
  if (!(await stat(file).catch(() => undefined))?.isFile())
    throw new UsageError(`${file} is not a readable file`);
  if (!o.company) throw new UsageError('give --company ALIAS: the company the map is for');
  await companyByAlias(app, o.company);
  return {
    open: () => createReadStream(file),
    label: file,
    company: o.company,
    name: o.name ?? nameFrom(file),
  };
}

function describeColumn(c: Assignment, width: number): string {
  const maybe =
    c.field === null && c.alternatives[0]
      ? `; maybe ${c.alternatives[0].field} (${c.alternatives[0].confidence})`
      : '';
  return (
    `  ${c.column.padEnd(width)} ${(c.field ?? '(extra)').padEnd(18)} ${c.field ? c.confidence.toFixed(2) : '    '}  ` +
    `${c.evidence.join('; ')}${maybe}`
  );
}

async function suggest(app: App, file: string | undefined, o: SuggestOptions): Promise<number> {
  const rows = Number(o.rows);
  if (!Number.isInteger(rows) || rows < 1) throw new UsageError('--rows must be a whole number above 0');
  const source = await fileToRead(app, file, o);
  let result;
  try {
    result = await suggestForFile(source.open, {
      filename: source.label,
      sheet: o.sheet,
      rows,
      name: source.name,
      company: source.company,
    });
  } catch (err) {
    if (err instanceof ParseError) throw new UsageError(`${source.label}: ${err.message}`);
    throw err;
  }
  const { suggestion, sample } = result;
  const text = JSON.stringify(suggestion.map, null, 2) + '\n';
  const { problems } = loadMapProblems(text);
  if (o.out) await writeFile(o.out, text);
  const width = Math.max(...suggestion.columns.map((c) => c.column.length), 6);
  print(
    !!o.json,
    {
      file: source.label,
      sheet: sample.sheet?.name ?? null,
      rowsSampled: sample.rows.length,
      threshold: suggestion.threshold,
      columns: suggestion.columns,
      missing: suggestion.missing,
      valid: problems.length === 0,
      problems,
      out: o.out ?? null,
      map: suggestion.map,
    },
    () => [
      `${source.label}: ${sample.format}${sample.sheet ? `, sheet "${sample.sheet.name}" of ${sample.sheet.all.map((s) => JSON.stringify(s)).join(', ')}` : ''}, ` +
        `${sample.rows.length} rows read; a field needs confidence ${suggestion.threshold} or more`,
      ...suggestion.columns.map((c) => describeColumn(c, width)),
      ...(suggestion.missing.length
        ? [`no column was found for ${suggestion.missing.join(', ')}: set it in the map by hand`]
        : []),
      problems.length
        ? `the map does not pass loadmap validate yet: ${problems.join('; ')}`
        : 'the map passes loadmap validate',
      o.out ? `wrote load map ${suggestion.map.name} to ${o.out}` : text.trimEnd(),
      `check it: herald loadmap preview ${o.packet ? 'FILE' : source.label} --company ${source.company} --map ${o.out ?? 'MAP.json'}`,
      `then:     herald loadmap add ${o.out ?? 'MAP.json'} --company ${source.company}`,
    ],
  );
  return problems.length ? EXIT.failed : EXIT.ok;
}

export function registerLoadMapSuggestCommand(loadmap: Command): void {
  loadmap
    .command('suggest')
    .description(
      'propose a load map for an export: each column matched to a field by its header and values, with a confidence and the evidence',
    )
    .argument('[datafile]', 'a CSV, XLSX, JSON or NDJSON file (or --packet)')
    .option('--company <alias>', "the company the map is for (with --packet: the packet's)")
    .option('--packet <id>', "a packet's file instead (a held one: its map's next version)")
    .option('--name <name>', "the map name (default: from the file name, or the packet's map)")
    .option('--sheet <name>', 'the workbook sheet (default: the one that reads best)')
    .option('--rows <n>', 'how many rows to read as the sample', '200')
    .option('--out <file>', 'write the map here (else it is printed)')
    .option('--json', 'print as JSON')
    .action((file: string | undefined, o: SuggestOptions) => withApp({}, (app) => suggest(app, file, o)));
}
