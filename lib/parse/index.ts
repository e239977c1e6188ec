// Opens any supported file as rows: detects the format from the first bytes, then hands over to its reader.
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from '../../schemas/ingest-limits';
import { peekBytes } from './bytes';
import { readCsv, type CsvOptions } from './csv';
import { detectFormat, type FileFormat } from './detect';
import { readJson, type JsonOptions } from './json';
import type { ByteSource, RowReader } from './types';
import { describeSheetRead, readXlsx, type XlsxOptions } from './xlsx';

export interface OpenRowsOptions {
  /** `auto` (the default) looks at the first bytes, and at the file name only if they are blank. */
  format?: 'auto' | FileFormat;
  filename?: string;
  csv?: CsvOptions;
  xlsx?: XlsxOptions;
  json?: JsonOptions;
  /** what a file may hold before it is refused (herald's defaults when left out) */
  limits?: IngestLimits;
}

const PEEK_BYTES = 4096;

export async function openRows(input: ByteSource, options: OpenRowsOptions = {}): Promise<RowReader> {
  const { head, source } = await peekBytes(input, PEEK_BYTES);
  let format: FileFormat;
  try {
    format =
      !options.format || options.format === 'auto' ? detectFormat(head, options.filename) : options.format;
  } catch (error) {
    await source.return(undefined);
    throw error;
  }
  const limits = options.limits ?? DEFAULT_INGEST_LIMITS;
  if (format === 'xlsx')
    return readXlsx(source, {
      maxColumns: limits.maxColumns,
      maxSharedStringsBytes: limits.maxSharedStringsBytes,
      ...options.xlsx,
    });
  if (format === 'json' || format === 'ndjson')
    return readJson(source, {
      maxColumns: limits.maxColumns,
      maxRecordLength: limits.maxLineChars,
      maxDepth: limits.maxJsonDepth,
      ...options.json,
    });
  return readCsv(source, {
    maxColumns: limits.maxColumns,
    maxLineLength: limits.maxLineChars,
    ...options.csv,
  });
}

export { readCsv, readJson, readXlsx, detectFormat, describeSheetRead };
export type { CsvOptions, JsonOptions, XlsxOptions, FileFormat };
export { matchColumns, normalizeHeader, type ColumnMatch, type ExpectedColumn } from './headers';
export {
  ParseError,
  type ByteSource,
  type CellValue,
  type ParsedRow,
  type ParseErrorCode,
  type RowReader,
} from './types';
