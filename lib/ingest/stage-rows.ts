// Streams a packet's file through parse, map and clean into its staging rows and rejects, in committed chunks.
import type { Sql } from '../db';
import { openRows, ParseError, type ByteSource, type CellValue } from '../parse';
import { copyInto, copyRow } from './copy';
import { IngestProblem } from './errors';
import { locationTimezoneOf, type PacketContext } from './packet-context';
import { bindMapper, rawText, type Reject } from './row-mapper';
import { copyLine, STAGING_COLUMNS } from './staged-row';

/** What is committed so far; heartbeats carry it, so a retried load resumes after `row`. */
export interface StageProgress {
  /** the last row number of the last committed chunk (0 = nothing yet) */
  row: number;
  staged: number;
  rejected: number;
  bytes: number;
}

export interface StageResult extends StageProgress {
  rowsRead: number;
  headers: number;
  resumedFrom: number;
}

export interface StageOptions {
  sql: Sql;
  context: PacketContext;
  input: ByteSource;
  resume?: StageProgress;
  onProgress(progress: StageProgress): void;
  /** rows per committed chunk */
  chunkRows?: number;
}

const REJECT_COLUMNS = [
  'packet_id',
  'company_id',
  'row_number',
  'column_name',
  'raw_value',
  'reason',
  'raw_row',
];
// a reject report keeps enough of each value to recognise it, never a whole 10 MB cell
const MAX_REPORTED_VALUE = 500;

const cut = (text: string | null) =>
  text !== null && text.length > MAX_REPORTED_VALUE ? `${text.slice(0, MAX_REPORTED_VALUE)}…` : text;

interface Chunk {
  lastRow: number;
  lines: string[];
  rejectLines: string[];
  staged: number;
  rejected: number;
}

function rejectLines(
  packetId: number,
  companyId: number,
  rejects: Reject[],
  values: Record<string, CellValue>,
): string[] {
  const rawRow: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(values)) rawRow[key] = cut(rawText(value));
  const json = JSON.stringify(rawRow);
  return rejects.map((r) =>
    copyRow([packetId, companyId, r.rowNumber, r.column, cut(r.rawValue), r.reason, json]),
  );
}

/** Removes what a previous attempt left past the resume point; starts over when staging lost rows. */
async function prepareStaging(
  sql: Sql,
  packetId: number,
  resume: StageProgress | undefined,
): Promise<StageProgress | undefined> {
  if (resume && resume.row > 0) {
    const [found] = await sql<{ staged: number; rejected: number }[]>`
      select (select count(*)::int from packet_rows where packet_id = ${packetId} and row_number <= ${resume.row}) as staged,
             (select count(distinct row_number)::int from packet_rejects where packet_id = ${packetId} and row_number <= ${resume.row}) as rejected`;
    if (found && found.staged === resume.staged && found.rejected === resume.rejected) {
      await sql`delete from packet_rows where packet_id = ${packetId} and row_number > ${resume.row}`;
      await sql`delete from packet_rejects where packet_id = ${packetId} and row_number > ${resume.row}`;
      return resume;
    }
  }
  await sql`delete from packet_rows where packet_id = ${packetId}`;
  await sql`delete from packet_rejects where packet_id = ${packetId}`;
  return undefined;
}

export async function stageRows(opts: StageOptions): Promise<StageResult> {
  const { sql, context } = opts;
  const packetId = context.packet.id;
  const companyId = context.company.id;
  const chunkRows = opts.chunkRows ?? 20_000;
  const resume = await prepareStaging(sql, packetId, opts.resume);
  const progress: StageProgress = resume ? { ...resume } : { row: 0, staged: 0, rejected: 0, bytes: 0 };
  const format = context.loadMap.compiled.map.format;
  let reader;
  try {
    reader = await openRows(opts.input, {
      format: format.kind,
      filename: context.packet.original_name ?? context.packet.object_key,
      csv: { delimiter: format.delimiter, encoding: format.encoding },
      xlsx: { sheet: format.sheet },
    });
  } catch (error) {
    throw asProblem(error);
  }
  let rowsRead = 0;
  let pending: Promise<void> = Promise.resolve();
  const commit = async (chunk: Chunk, bytes: number): Promise<void> => {
    await sql.begin(async (tx) => {
      if (chunk.lines.length > 0) await copyInto(tx, 'packet_rows', STAGING_COLUMNS, chunk.lines);
      if (chunk.rejectLines.length > 0)
        await copyInto(tx, 'packet_rejects', REJECT_COLUMNS, chunk.rejectLines);
    });
    progress.row = chunk.lastRow;
    progress.staged += chunk.staged;
    progress.rejected += chunk.rejected;
    progress.bytes = bytes;
    opts.onProgress({ ...progress });
  };
  try {
    const mapRow = bindMapper(context.loadMap.compiled, reader.headers, {
      companyTimezone: context.company.timezone,
      locationTimezone: locationTimezoneOf(context.locationZones),
    });
    let chunk: Chunk = { lastRow: 0, lines: [], rejectLines: [], staged: 0, rejected: 0 };
    for await (const row of reader.rows()) {
      rowsRead += 1;
      if (row.rowNumber <= progress.row) continue;
      const mapped = mapRow(row);
      if (mapped.ok) {
        chunk.lines.push(copyLine(packetId, mapped.row));
        chunk.staged += 1;
      } else {
        chunk.rejectLines.push(...rejectLines(packetId, companyId, mapped.rejects, row.values));
        chunk.rejected += 1;
      }
      chunk.lastRow = row.rowNumber;
      if (chunk.staged + chunk.rejected >= chunkRows) {
        // the previous chunk commits while this one is parsed: Postgres and the parser overlap
        await pending;
        pending = commit(chunk, reader.bytesRead);
        // handled at the next await; without this a failed commit would count as unhandled meanwhile
        pending.catch(() => {});
        chunk = { lastRow: 0, lines: [], rejectLines: [], staged: 0, rejected: 0 };
      }
    }
    await pending;
    if (chunk.lastRow > 0) await commit(chunk, reader.bytesRead);
  } catch (error) {
    await pending.catch(() => {});
    await reader.close();
    throw asProblem(error);
  }
  if (rowsRead === 0)
    throw new IngestProblem(
      'NoRows',
      `the file has a header row but no data rows (columns: ${reader.headers.join(', ')})`,
    );
  return {
    ...progress,
    bytes: reader.bytesRead,
    rowsRead,
    headers: reader.headers.length,
    resumedFrom: resume?.row ?? 0,
  };
}

function asProblem(error: unknown): unknown {
  if (error instanceof ParseError)
    return new IngestProblem('BadFile', error.message, { code: error.code, row: error.rowNumber ?? null });
  return error;
}
