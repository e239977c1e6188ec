// Streaming reader for a JSON array of objects or NDJSON (one object per line), flattening nested objects.
import { DEFAULT_INGEST_LIMITS, INGEST_LIMIT_SETTINGS } from '../../schemas/ingest-limits';
import { ByteCounter, countBytes } from './bytes';
import { decodeText } from './decode';
import { splitJsonArray, splitNdjson, type JsonRecord } from './json-records';
import {
  emptyValues,
  ParseError,
  type ByteSource,
  type CellValue,
  type ParsedRow,
  type RowReader,
} from './types';
import { inBatchesOfOne } from './row-batches';

export interface JsonOptions {
  /** Nested objects become dotted keys ("address.zip", the default) or are refused. */
  nested?: 'flatten' | 'reject';
  /** The longest record accepted, in characters. */
  maxRecordLength?: number;
  /** The most levels of nested objects and arrays a record may have. */
  maxDepth?: number;
  /** The most values (keys once flattened) a record may have. */
  maxColumns?: number;
}

interface FlattenLimits {
  nested: 'flatten' | 'reject';
  maxDepth: number;
  maxColumns: number;
}

async function firstCharacter(
  texts: AsyncIterator<string>,
): Promise<{ first: string | undefined; buffered: string[] }> {
  const buffered: string[] = [];
  for (let next = await texts.next(); !next.done; next = await texts.next()) {
    buffered.push(next.value);
    const first = next.value.trimStart()[0];
    if (first !== undefined) return { first, buffered };
  }
  return { first: undefined, buffered };
}

async function* replay(buffered: string[], rest: AsyncIterator<string>): AsyncGenerator<string> {
  try {
    yield* buffered;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/**
 * One flat record: nested keys joined with dots, booleans as "true"/"false", empty strings as null.
 * Nesting deeper, or more values, than the limits is refused before it can exhaust the stack or memory.
 */
export function flattenRecord(
  record: JsonRecord,
  where: string,
  { nested, maxDepth, maxColumns }: FlattenLimits,
): Record<string, CellValue> {
  const { value, rowNumber } = record;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ParseError(
      'invalid-json',
      `${where} is ${describe(value)}, not an object of named values`,
      rowNumber,
    );
  }
  const values = emptyValues();
  let count = 0;
  const set = (key: string, cell: CellValue): void => {
    count += 1;
    if (count > maxColumns)
      throw new ParseError(
        'too-many-columns',
        `${where} has more than ${maxColumns} values, the limit for one record (${INGEST_LIMIT_SETTINGS.maxColumns}); raise ${INGEST_LIMIT_SETTINGS.maxColumns} if the feed really is that wide`,
        rowNumber,
      );
    if (Object.hasOwn(values, key))
      throw new ParseError(
        'nested-value',
        `${where} has the key ${JSON.stringify(key)} twice once flattened`,
        rowNumber,
      );
    values[key] = cell;
  };
  const visit = (item: unknown, key: string, depth: number): void => {
    if (item === null || item === undefined) set(key, null);
    else if (typeof item === 'string') set(key, item === '' ? null : item);
    else if (typeof item === 'number') set(key, item);
    else if (typeof item === 'boolean') set(key, String(item));
    else if (typeof item === 'object') {
      if (nested === 'reject') {
        throw new ParseError(
          'nested-value',
          `${where} has a nested value at ${JSON.stringify(key)}; send flat objects, or let the load map flatten them`,
          rowNumber,
          key,
        );
      }
      if (depth >= maxDepth)
        throw new ParseError(
          'too-deep',
          `${where} nests objects or arrays more than ${maxDepth} levels deep at ${JSON.stringify(key)}, the limit (${INGEST_LIMIT_SETTINGS.maxJsonDepth}); flatten the feed, or raise ${INGEST_LIMIT_SETTINGS.maxJsonDepth}`,
          rowNumber,
          key,
        );
      const entries = Array.isArray(item)
        ? item.map((v, i) => [String(i), v] as const)
        : Object.entries(item);
      if (entries.length === 0) set(key, null);
      for (const [child, v] of entries) visit(v, `${key}.${child}`, depth + 1);
    }
  };
  for (const [key, item] of Object.entries(value)) visit(item, key, 1);
  return values;
}

/**
 * Opens a JSON array (`[` first) or NDJSON (`{` first) stream and reads its first record, whose keys
 * become the headers; later records may leave keys out (null) or add keys (kept in values).
 */
export async function readJson(input: ByteSource, options: JsonOptions = {}): Promise<RowReader> {
  const counter = new ByteCounter();
  const texts = decodeText(countBytes(input, counter), 'utf-8');
  const limits: FlattenLimits = {
    nested: options.nested ?? 'flatten',
    maxDepth: options.maxDepth ?? DEFAULT_INGEST_LIMITS.maxJsonDepth,
    maxColumns: options.maxColumns ?? DEFAULT_INGEST_LIMITS.maxColumns,
  };
  const max = options.maxRecordLength ?? DEFAULT_INGEST_LIMITS.maxLineChars;
  let records: AsyncGenerator<JsonRecord> | undefined;
  const close = async (): Promise<void> => {
    await records?.return(undefined);
    await texts.return(undefined);
  };
  try {
    const { first, buffered } = await firstCharacter(texts);
    if (first === undefined) throw new ParseError('empty-file', 'the file is empty');
    if (first !== '[' && first !== '{')
      throw new ParseError(
        'invalid-json',
        `the file starts with ${JSON.stringify(first)}; expected a JSON array ([) or one JSON object per line ({)`,
      );
    const format = first === '[' ? 'json' : 'ndjson';
    records =
      format === 'json'
        ? splitJsonArray(replay(buffered, texts), max)
        : splitNdjson(replay(buffered, texts), max);
    const label = (record: JsonRecord): string =>
      format === 'json' ? `element ${record.rowNumber} of the array` : `line ${record.rowNumber}`;
    const firstRecord = await records.next();
    const firstValues = firstRecord.done
      ? undefined
      : flattenRecord(firstRecord.value, label(firstRecord.value), limits);
    const headers = firstValues ? Object.keys(firstValues) : [];
    const rest = records;
    return {
      format,
      headers,
      get bytesRead() {
        return counter.bytes;
      },
      async *rows(): AsyncGenerator<ParsedRow> {
        try {
          if (firstValues && !firstRecord.done)
            yield { rowNumber: firstRecord.value.rowNumber, values: firstValues };
          for await (const record of rest) {
            const flat = flattenRecord(record, label(record), limits);
            const values = emptyValues();
            for (const header of headers) values[header] = null;
            yield { rowNumber: record.rowNumber, values: Object.assign(values, flat) };
          }
        } finally {
          await close();
        }
      },
      batches(this: RowReader) {
        return inBatchesOfOne(this.rows());
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
