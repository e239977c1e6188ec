// Splits CSV text into records with papaparse's core parser, fed chunk by chunk in bounded memory.
import Papa from 'papaparse';
import { INGEST_LIMIT_SETTINGS } from '../../schemas/ingest-limits';
import type { Delimiter, LineBreak } from './delimiter';
import { ParseError } from './types';

export interface CsvRecord {
  /** The record's number counting from 1, blank lines included, as a spreadsheet numbers its rows. */
  rowNumber: number;
  fields: string[];
}

export interface SplitOptions {
  delimiter: Delimiter;
  lineBreak: LineBreak;
  maxLineLength: number;
  maxFieldLength: number;
  maxColumns: number;
  /** Names column `index` for error messages; read on each error, so it can learn the header. */
  columnName(index: number): string;
  /** How many columns a row is expected to have (0 before the header is read), to bound a row's size. */
  columnCount(): number;
}

interface PapaError {
  code: string;
  row?: number;
}

// Text is parsed in pieces of at most this many characters. The records of a piece stay alive until the
// consumer has taken them all; under the worker's 2 MB young generation, a 64 KB chunk's worth of them
// outlived a scavenge and was copied and promoted, most of staging's GC work. Measured at 200k rows,
// interleaved: 4096 used ~20% less CPU than whole chunks.
const PARSE_PIECE = 4096;

/**
 * Yields the records of each piece of text it parses, as they complete. The unfinished last record
 * of each chunk waits for the next one; when a record stays unfinished, parsing waits until the text
 * has doubled, so a long record is not re-scanned once per chunk, and a record longer than
 * maxFieldLength times the column count is refused before it can use more memory than that.
 */
export async function* splitRecords(
  texts: AsyncIterable<string>,
  options: SplitOptions,
): AsyncGenerator<CsvRecord[]> {
  const parser = new Papa.Parser({
    delimiter: options.delimiter,
    newline: options.lineBreak,
    quoteChar: '"',
    escapeChar: '"',
  });
  const rowLimit = (): number =>
    Math.min(options.maxLineLength, options.maxFieldLength * Math.max(1, options.columnCount()));
  let rowNumber = 0;
  let pending = '';
  let buffered: string[] = [];
  let bufferedLength = 0;
  let waitUntil = 0;

  const parse = (text: string, final: boolean): string[][] => {
    const result = parser.parse(text, 0, !final) as {
      data: string[][];
      errors: PapaError[];
      meta: { cursor: number };
    };
    for (const error of result.errors) {
      // An error in the unfinished last record is reported again once that record is complete.
      if (error.row === undefined || error.row >= result.data.length) continue;
      const row = rowNumber + error.row + 1;
      if (error.code === 'MissingQuotes') {
        const column = options.columnName(Math.max(0, (result.data[error.row]?.length ?? 1) - 1));
        throw new ParseError(
          'malformed-quotes',
          `row ${row}, ${column}: a quoted value is never closed; the file may be cut short or a quote is missing`,
          row,
        );
      }
      throw new ParseError(
        'malformed-quotes',
        `row ${row}: a quoted value is followed by other characters; a quote inside a quoted value must be doubled ("")`,
        row,
      );
    }
    pending = final ? '' : text.slice(result.meta.cursor);
    return result.data;
  };

  const record = (fields: string[]): CsvRecord => {
    rowNumber += 1;
    checkSizes(fields, rowNumber);
    return { rowNumber, fields };
  };

  // A piece's records, numbered and checked: one at a time until the header is read (so a size error
  // names the column), then the rest of the piece as one batch.
  function* numbered(records: string[][]): Generator<CsvRecord[]> {
    let at = 0;
    while (at < records.length && options.columnCount() === 0) yield [record(records[at++]!)];
    const rest: CsvRecord[] = [];
    for (; at < records.length; at += 1) rest.push(record(records[at]!));
    if (rest.length > 0) yield rest;
  }

  const checkSizes = (fields: string[], row: number): void => {
    if (fields.length > options.maxColumns) throw tooWide(row, fields.length);
    for (let i = 0; i < fields.length; i += 1) {
      if (fields[i]!.length > options.maxFieldLength) throw tooLarge(row, options.columnName(i));
    }
  };

  const tooWide = (row: number, count: number): ParseError =>
    new ParseError(
      'too-many-columns',
      `row ${row} has ${count} values, over the limit of ${options.maxColumns} columns (${INGEST_LIMIT_SETTINGS.maxColumns}); check the delimiter, or raise ${INGEST_LIMIT_SETTINGS.maxColumns} if the file really is that wide`,
      row,
    );

  const tooLarge = (row: number, column: string): ParseError =>
    new ParseError(
      'field-too-large',
      `row ${row}, ${column}: the value is longer than ${options.maxFieldLength} characters, the limit for one value (${INGEST_LIMIT_SETTINGS.maxLineChars}); an unclosed quote can cause this`,
      row,
      column,
    );

  const refuseLongRecord = (): never => {
    const row = rowNumber + 1;
    const fields = (parser.parse(pending, 0, false) as { data: string[][] }).data[0] ?? [''];
    const last = fields.length - 1;
    if (fields.length > options.maxColumns) throw tooWide(row, fields.length);
    if (fields[last]!.length > options.maxFieldLength) throw tooLarge(row, options.columnName(last));
    throw new ParseError(
      'field-too-large',
      `row ${row} is longer than ${rowLimit()} characters (${fields.length} values so far), the limit for one line (${INGEST_LIMIT_SETTINGS.maxLineChars}); check the delimiter and quotes, or raise ${INGEST_LIMIT_SETTINGS.maxLineChars}`,
      row,
    );
  };

  for await (const text of texts) {
    for (let at = 0; at < text.length; at += PARSE_PIECE) {
      buffered.push(text.length <= PARSE_PIECE ? text : text.slice(at, at + PARSE_PIECE));
      bufferedLength += Math.min(PARSE_PIECE, text.length - at);
      const total = pending.length + bufferedLength;
      if (total < waitUntil && total <= rowLimit()) continue;
      const piece = pending + buffered.join('');
      buffered = [];
      bufferedLength = 0;
      const records = parse(piece, false);
      yield* numbered(records);
      waitUntil = records.length === 0 ? piece.length * 2 : 0;
      if (pending.length > rowLimit()) refuseLongRecord();
    }
  }
  const rest = pending + buffered.join('');
  if (rest !== '') yield* numbered(parse(rest, true));
}
