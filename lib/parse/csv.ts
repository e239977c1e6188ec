// Streaming CSV reader: encoding and delimiter detection, spreadsheet row numbers, headers checked up front.
import { DEFAULT_INGEST_LIMITS } from '../../schemas/ingest-limits';
import { ByteCounter, countBytes } from './bytes';
import { splitRecords, type CsvRecord } from './csv-records';
import { decodeText, type TextEncoding } from './decode';
import { detectDelimiter, detectLineBreak, type Delimiter } from './delimiter';
import { checkHeaders } from './headers';
import { oneByOne } from './row-batches';
import {
  emptyValues,
  ParseError,
  type ByteSource,
  type CellValue,
  type ParsedRow,
  type RowReader,
} from './types';

export interface CsvOptions {
  /** Detected from the first lines when left out. */
  delimiter?: Delimiter;
  /** Default `auto`: BOM, else UTF-16 by its zero bytes, else UTF-8, falling back to Windows-1252. */
  encoding?: TextEncoding;
  /** The longest line (record) accepted, in characters; longer is an error naming the row. */
  maxLineLength?: number;
  /** The longest value accepted, in characters (default: the line's limit); longer names row and column. */
  maxFieldLength?: number;
  /** The most columns the header, and values any row, may have. */
  maxColumns?: number;
}
const SAMPLE_LENGTH = 64 * 1024;

async function takeSample(texts: AsyncIterator<string>): Promise<{ text: string; complete: boolean }> {
  let text = '';
  // A sample ending in "\r" could be half of "\r\n", which would mislead the line-break guess.
  while (text.length < SAMPLE_LENGTH || text.endsWith('\r')) {
    const next = await texts.next();
    if (next.done) return { text, complete: true };
    text += next.value;
  }
  return { text, complete: false };
}

async function* prepend(first: string, rest: AsyncIterator<string>): AsyncGenerator<string> {
  try {
    if (first !== '') yield first;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}

const isBlankRecord = (fields: readonly string[]): boolean => fields.every((field) => field.trim() === '');

// Excel's trick for keeping leading zeros in a CSV, ="02134", means the text 02134.
function cellValue(field: string | undefined): CellValue {
  if (field === undefined || field === '') return null;
  const excelText = /^="(.*)"$/s.exec(field);
  return excelText ? excelText[1]! : field;
}

/**
 * Opens a CSV stream and reads up to its header row. Leading blank lines are skipped (and counted in row
 * numbers); an empty file is an error; a header-only file has zero rows. Columns with a blank header
 * are ignored; a row with more non-blank values than the header has columns is an error.
 */
export async function readCsv(input: ByteSource, options: CsvOptions = {}): Promise<RowReader> {
  const counter = new ByteCounter();
  const texts = decodeText(countBytes(input, counter), options.encoding ?? 'auto');
  let headers: string[] = [];
  let records: AsyncGenerator<CsvRecord[]> | undefined;
  const close = async (): Promise<void> => {
    await records?.return(undefined);
    await texts.return(undefined);
  };
  try {
    const sample = await takeSample(texts);
    if (sample.complete && sample.text.trim() === '') throw new ParseError('empty-file', 'the file is empty');
    const delimiter = options.delimiter ?? detectDelimiter(sample.text, sample.complete);
    const maxLineLength = options.maxLineLength ?? DEFAULT_INGEST_LIMITS.maxLineChars;
    records = splitRecords(prepend(sample.text, texts), {
      delimiter,
      lineBreak: detectLineBreak(sample.text),
      maxLineLength,
      maxFieldLength: Math.min(options.maxFieldLength ?? maxLineLength, maxLineLength),
      maxColumns: options.maxColumns ?? DEFAULT_INGEST_LIMITS.maxColumns,
      columnCount: () => headers.length,
      columnName: (index) =>
        headers[index] ? `column ${JSON.stringify(headers[index])}` : `column ${index + 1}`,
    });
    let header: CsvRecord | undefined;
    // the records that came with the header, in its piece of text: the first data rows
    let afterHeader: CsvRecord[] = [];
    for (let next = await records.next(); !next.done; next = await records.next()) {
      const at = next.value.findIndex((record) => !isBlankRecord(record.fields));
      if (at < 0) continue;
      header = next.value[at];
      afterHeader = next.value.slice(at + 1);
      break;
    }
    if (!header) throw new ParseError('empty-file', 'the file has no header row, only blank lines');
    headers = checkHeaders(header.fields, header.rowNumber);
    const rowsOf = records;
    const toRows = (batch: CsvRecord[]): ParsedRow[] => {
      const rows: ParsedRow[] = [];
      for (const record of batch) {
        const row = toRow(record, headers, delimiter);
        if (row) rows.push(row);
      }
      return rows;
    };
    const reader: RowReader = {
      format: 'csv',
      headers,
      get bytesRead() {
        return counter.bytes;
      },
      async *batches() {
        try {
          const first = toRows(afterHeader);
          if (first.length > 0) yield first;
          for await (const batch of rowsOf) {
            const rows = toRows(batch);
            if (rows.length > 0) yield rows;
          }
        } finally {
          await close();
        }
      },
      rows: () => oneByOne(reader.batches()),
      close,
    };
    return reader;
  } catch (error) {
    await close();
    throw error;
  }
}

function toRow(
  { rowNumber, fields }: CsvRecord,
  headers: readonly string[],
  delimiter: Delimiter,
): ParsedRow | undefined {
  if (isBlankRecord(fields)) return undefined;
  if (fields.length > headers.length && fields.slice(headers.length).some((field) => field.trim() !== '')) {
    const shown = delimiter === '\t' ? 'tab' : `"${delimiter}"`;
    throw new ParseError(
      'too-many-values',
      `row ${rowNumber} has ${fields.length} values but the header has ${headers.length} columns; a value probably contains an unquoted ${shown}`,
      rowNumber,
    );
  }
  const values = emptyValues();
  for (let i = 0; i < headers.length; i += 1) {
    const header = headers[i]!;
    if (header !== '') values[header] = cellValue(fields[i]);
  }
  return { rowNumber, values };
}
