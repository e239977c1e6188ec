// COPY ... FROM STDIN in text format: escaping values into lines, and streaming lines into a table.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

/** Streams lines into `table` through COPY, with backpressure, inside the caller's transaction. */
export async function copyInto(
  sql: Sql | TransactionSql,
  table: string,
  columns: readonly string[],
  lines: readonly string[],
): Promise<void> {
  const writable = await sql`copy ${sql(table)} (${sql(columns as string[])}) from stdin`.writable();
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
