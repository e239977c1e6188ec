// COPY ... FROM STDIN in text format: escaping values into lines, and streaming lines into a table.
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PendingQuery, Row } from 'postgres';
import type { Sql, TransactionSql } from '../db';

const SPECIAL = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One value in COPY's text format: backslash, newline, carriage return and tab escaped; \N is null. */
export function copyValue(value: string | number | null): string {
  if (value === null) return '\\N';
  const text = typeof value === 'number' ? String(value) : value;
  return SPECIAL.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c]!) : text;
}

/** One COPY line, with its newline. */
export function copyRow(values: readonly (string | number | null)[]): string {
  return values.map(copyValue).join('\t') + '\n';
}

/**
 * COPY lines written as UTF-8 straight into a buffer, handed over in pieces of about `size` bytes. A batch
 * kept as a string would be a rope of every line until it is sent; those lines outlive the worker's small
 * young generation and were most of the scavenger's work while staging. A buffer lives off the heap.
 */
export class CopyBatch {
  private buffer: Buffer;
  private used = 0;

  constructor(private readonly size = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** Adds one line; returns the batch so far, to be sent first, when the line does not fit beside it. */
  add(line: string): Buffer | undefined {
    // a UTF-16 code unit takes at most three bytes in UTF-8
    const most = line.length * 3;
    const full = this.used + most > this.buffer.length ? this.take() : undefined;
    if (most > this.buffer.length) this.buffer = Buffer.allocUnsafe(most);
    this.used += this.buffer.write(line, this.used);
    return full;
  }

  /** The lines added since the last take, or undefined when there are none. */
  take(): Buffer | undefined {
    if (this.used === 0) return undefined;
    // a new buffer for the next batch: COPY's stream may still hold this one until it is sent
    const out = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(this.size);
    this.used = 0;
    return out;
  }
}

/**
 * The writable of a `COPY ... FROM STDIN` query, destroyed with the server's error whenever the COPY
 * fails. The postgres driver (3.4.9) drops an error that arrives after the writable has ended (the
 * usual case for a short COPY, whose data and end go out together): the query was already resolved
 * with the stream, and the stream's final callback is never called, so whatever waits for it waits
 * forever, and inside `sql.begin` no ROLLBACK is ever sent (porsager/postgres#1173). The error still
 * reaches the query's own `reject`, which is where it is taken from.
 */
export async function copyWritable(query: PendingQuery<Row[]>): Promise<Writable> {
  const pending = query as PendingQuery<Row[]> & { reject(error: Error): void };
  const reject = pending.reject;
  const copy: { stream?: Writable; failure?: Error } = {};
  pending.reject = (error: Error) => {
    copy.failure = error;
    if (copy.stream && !copy.stream.destroyed) copy.stream.destroy(error);
    reject(error);
  };
  copy.stream = await pending.writable();
  if (copy.failure) copy.stream.destroy(copy.failure);
  return copy.stream;
}

/** Streams lines into `table` through COPY, with backpressure, inside the caller's transaction. */
export async function copyInto(
  sql: Sql | TransactionSql,
  table: string,
  columns: readonly string[],
  lines: readonly string[],
): Promise<void> {
  const writable = await copyWritable(sql`copy ${sql(table)} (${sql(columns as string[])}) from stdin`);
  await pipeline(Readable.from(batches(lines)), writable);
}

// Lines are handed over in ~64 KB pieces: fewer writes than one per line, no single giant string.
function* batches(lines: readonly string[]): Generator<string> {
  let batch = '';
  for (const line of lines) {
    batch += line;
    if (batch.length >= 65_536) {
      yield batch;
      batch = '';
    }
  }
  if (batch !== '') yield batch;
}
