// Streams a packet's file through parse, map and clean into its staging rows and rejects, in committed chunks.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { IngestLimits } from '../../schemas/ingest-limits';
import type { Sql } from '../db';
import {
  describeSheetRead,
  openRows,
  ParseError,
  type ByteSource,
  type CellValue,
  type ParsedRow,
  type RowReader,
} from '../parse';
import { CopyBatch, copyInto, copyRow, copyWritable } from './copy';
import { IngestProblem } from './errors';
import { locationTimezoneOf, type PacketContext } from './packet-context';
import { bindMapper, rawText, type Reject } from './row-mapper';
import type { HeaderDrift } from './header-drift';
import { checkHeaderDrift, watchGarbledText, type GarbledText } from './packet-holds';
import { copyLine, STAGING_COLUMNS } from './staged-row';
import { storableText } from './storable-text';

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
  /** how the header differs from the map, when the packet loads anyway */
  drift?: HeaderDrift;
  /** rows whose names look like UTF-8 read as Windows-1252, when the source only warns */
  garbledText?: GarbledText;
  /** the file's header as read (trimmed) */
  header: string[];
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
  /** what the file may hold (herald's defaults when left out) */
  limits?: IngestLimits;
  /** called with the file's header (trimmed) once it is read and checked, before any row is staged */
  onHeader?(header: readonly string[]): Promise<void>;
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

// a rejected value may be one Postgres cannot store (which is why it was rejected): the report shows it
// with U+FFFD in place of what cannot be stored
const reported = (text: string | null) =>
  text === null
    ? null
    : storableText(text.length > MAX_REPORTED_VALUE ? `${text.slice(0, MAX_REPORTED_VALUE)}…` : text);

function rejectLines(
  packetId: number,
  companyId: number,
  rejects: Reject[],
  values: Record<string, CellValue>,
): string[] {
  const rawRow: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(values)) rawRow[storableText(key)] = reported(rawText(value));
  const json = JSON.stringify(rawRow);
  return rejects.map((r) =>
    copyRow([
      packetId,
      companyId,
      r.rowNumber,
      reported(r.column),
      reported(r.rawValue),
      storableText(r.reason),
      json,
    ]),
  );
}

/**
 * Removes what a previous attempt left past the resume point; starts over when staging lost rows. A
 * staging that starts over is the packet's new run (a replay, or rows lost in a crash): the merge mark
 * and staged count of any earlier run are cleared, so the merge that follows merges these rows.
 */
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
  await sql.begin(async (tx) => {
    await tx`update data_packets set merged_at = null, rows_staged = null where id = ${packetId}`;
    await tx`delete from packet_rows where packet_id = ${packetId}`;
    await tx`delete from packet_rejects where packet_id = ${packetId}`;
  });
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
  const fileName = context.packet.original_name ?? context.packet.object_key.split('/').pop()!;
  // the last row read, which an error the runtime throws while reading the next one is placed after
  let lastRow = 0;
  let reader;
  try {
    reader = await openRows(opts.input, {
      format: format.kind,
      filename: context.packet.original_name ?? context.packet.object_key,
      csv: { delimiter: format.delimiter, encoding: format.encoding },
      xlsx: { sheet: format.sheet },
      limits: opts.limits,
    });
  } catch (error) {
    throw asProblem(error, fileName, lastRow);
  }
  let drift: HeaderDrift | undefined;
  try {
    drift = checkHeaderDrift(context, reader.headers);
    await opts.onHeader?.(reader.headers);
  } catch (error) {
    void reader.close().catch(() => {});
    throw error;
  }
  const mapRow = bindOrClose(reader, context);
  const garbled = watchGarbledText(context);
  // rows come in the parser's batches: a promise per row, with a million rows under the activity's
  // async context tracking, cost more CPU than mapping them
  const batches = reader.batches();
  let batch: readonly ParsedRow[] = [];
  let inBatch = 0;
  let rowsRead = 0;
  let exhausted = false;
  // the previous chunk's commit and progress record, which the next chunk's parsing overlaps
  let previous: Promise<void> = Promise.resolve();
  let current: Promise<unknown> = Promise.resolve();
  // rows up to here were committed by an earlier attempt
  const skipThrough = progress.row;
  try {
    while (!exhausted) {
      // One transaction per chunk: its rows stream into COPY as they are mapped, so Postgres takes
      // them while the parser works and memory holds one batch, not the chunk; the commit is the
      // point a retry can resume after.
      const chunk = { lastRow: 0, staged: 0, rejected: 0, rejectLines: [] as string[] };
      let taken = (): void => {};
      const rowsTaken = new Promise<void>((resolve) => (taken = resolve));
      const committed = sql.begin(async (tx) => {
        const copy = await copyWritable(
          tx`copy packet_rows (${tx(STAGING_COLUMNS as unknown as string[])}) from stdin`,
        );
        const copied = finished(copy);
        copied.catch(() => {});
        try {
          const lines = new CopyBatch();
          while (chunk.staged + chunk.rejected < chunkRows) {
            if (inBatch === batch.length) {
              const next = await batches.next();
              if (next.done) {
                exhausted = true;
                break;
              }
              batch = next.value;
              inBatch = 0;
              continue;
            }
            const row = batch[inBatch++]!;
            rowsRead += 1;
            lastRow = row.rowNumber;
            if (row.rowNumber <= skipThrough) continue;
            const mapped = mapRow(row);
            if (mapped.ok) {
              garbled.check(mapped.row);
              const full = lines.add(copyLine(packetId, mapped.row));
              if (full) await write(copy, full, copied);
              chunk.staged += 1;
            } else {
              chunk.rejectLines.push(...rejectLines(packetId, companyId, mapped.rejects, row.values));
              chunk.rejected += 1;
            }
            chunk.lastRow = row.rowNumber;
          }
          const last = lines.take();
          if (last) await write(copy, last, copied);
          taken();
          copy.end();
          await copied;
        } catch (error) {
          // an unfinished COPY holds the connection: fail it, or the rollback would wait behind it forever
          copy.destroy(error as Error);
          await copied.catch(() => {});
          throw error;
        }
        if (chunk.rejectLines.length > 0)
          await copyInto(tx, 'packet_rejects', REJECT_COLUMNS, chunk.rejectLines);
      });
      committed.catch(() => {});
      current = committed;
      // the next chunk is parsed while this one commits; progress is recorded in file order
      await Promise.race([rowsTaken, committed]);
      const before = previous;
      previous = (async () => {
        await before;
        await committed;
        if (chunk.lastRow === 0) return;
        progress.row = chunk.lastRow;
        progress.staged += chunk.staged;
        progress.rejected += chunk.rejected;
        progress.bytes = reader.bytesRead;
        opts.onProgress({ ...progress });
      })();
      previous.catch(() => {});
      // at most two chunks in flight: this one, and the one before it committing
      await before;
    }
    await previous;
  } catch (error) {
    await Promise.allSettled([previous, current]);
    await batches.return(undefined).catch(() => {});
    throw asProblem(error, fileName, lastRow);
  }
  if (rowsRead === 0) {
    throw new IngestProblem(
      'NoRows',
      `the file has a header row but no data rows (columns: ${reader.headers.join(', ')})`,
    );
  }
  // the merge compares the staging rows it finds with this count (see mergePacketRows)
  await sql`
    update data_packets
    set rows_read = ${rowsRead}, rows_rejected = ${progress.rejected}, rows_staged = ${progress.staged}
    where id = ${packetId}`;
  return {
    ...progress,
    bytes: reader.bytesRead,
    rowsRead,
    header: [...reader.headers],
    drift,
    garbledText: garbled.found.rows > 0 ? garbled.found : undefined,
    resumedFrom: resume?.row ?? 0,
  };
}

/** Binds the map to the file's headers; a missing column closes the file before the packet fails. */
function bindOrClose(reader: RowReader, context: PacketContext) {
  try {
    return bindMapper(context.loadMap.compiled, reader.headers, {
      companyTimezone: context.company.timezone,
      locationTimezone: locationTimezoneOf(context.locationZones),
    });
  } catch (error) {
    void reader.close().catch(() => {});
    throw withSheetRead(error, reader, context.loadMap.compiled.map.format.sheet);
  }
}

/** A header that does not fit the map, read from a workbook: the error says which sheet and lists the others. */
export function withSheetRead(error: unknown, reader: RowReader, named: string | undefined): unknown {
  const sheet = describeSheetRead(reader, named);
  if (!sheet || !(error instanceof IngestProblem)) return error;
  return new IngestProblem(error.kind, `${error.message}. ${sheet}`, {
    ...error.details,
    sheet: reader.sheet,
  });
}

/** Writes with backpressure; a COPY that failed (its `finished` rejected) ends the wait at once. */
async function write(copy: Writable, bytes: Buffer, copied: Promise<void>): Promise<void> {
  if (copy.errored) throw copy.errored;
  if (copy.write(bytes)) return;
  await Promise.race([once(copy, 'drain'), copied]);
}

/**
 * What reading the file threw, as the packet's problem when the file caused it: a ParseError, or a
 * RangeError (a structure too deep or a string too long for the runtime), which a retry would meet again.
 */
function asProblem(error: unknown, fileName: string, lastRow: number): unknown {
  if (error instanceof ParseError)
    return new IngestProblem('BadFile', `${fileName}: ${error.message}`, {
      code: error.code,
      row: error.rowNumber ?? null,
    });
  if (error instanceof RangeError)
    return new IngestProblem(
      'BadFile',
      `${fileName}: the file could not be read after row ${lastRow} (${error.message}); check the row after it`,
      { row: lastRow },
    );
  return error;
}
