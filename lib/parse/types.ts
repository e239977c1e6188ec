// The shapes every file parser shares: a row, the reader that yields rows, and the error a person can act on.

export type CellValue = string | number | Date | null;

export interface ParsedRow {
  /** The row number a person sees in a spreadsheet: the header is row 1, the first data row row 2. */
  rowNumber: number;
  /** Values by header; blank cells are null. A null-prototype object, so any header text is safe as a key. */
  values: Record<string, CellValue>;
}

/** Bytes in: a Node Readable, or any async iterable of chunks. */
export type ByteSource = AsyncIterable<Uint8Array | string>;

export interface RowReader {
  readonly format: 'csv' | 'xlsx' | 'json' | 'ndjson';
  /** Column headers as found (trimmed), in file order; known before the first row is read. */
  readonly headers: readonly string[];
  /** Bytes of the input consumed so far, for activity heartbeats. */
  readonly bytesRead: number;
  /** A workbook's: the sheet read, and every sheet it has in order (so an error can name the others). */
  readonly sheet?: { readonly name: string; readonly all: readonly string[] };
  /** The data rows, pulled one at a time, so a slow consumer slows the read (backpressure). Call once. */
  rows(): AsyncGenerator<ParsedRow, void, undefined>;
  /**
   * The same rows in batches, as the parser reads them (a CSV's: the records of one piece of text), so a
   * consumer of millions of rows waits on a promise per batch, not per row. Call once, instead of rows().
   */
  batches(): AsyncGenerator<readonly ParsedRow[], void, undefined>;
  /** Stops reading and releases the input and any temporary file; rows() does this when it ends. */
  close(): Promise<void>;
}

export type ParseErrorCode =
  | 'empty-file'
  | 'no-header'
  | 'duplicate-headers'
  | 'malformed-quotes'
  | 'too-many-values'
  | 'field-too-large'
  | 'encoding'
  | 'unsupported-format'
  | 'not-xlsx'
  | 'xlsx-too-large'
  | 'too-many-rows'
  | 'sheet-not-found'
  | 'invalid-json'
  | 'nested-value'
  | 'too-many-columns'
  | 'too-deep';

/**
 * A problem with the file itself, never worth retrying: the message names the row and column when
 * there is one, and says what to change.
 */
export class ParseError extends Error {
  override readonly name = 'ParseError';

  constructor(
    readonly code: ParseErrorCode,
    message: string,
    readonly rowNumber?: number,
    readonly column?: string,
  ) {
    super(message);
  }
}

/** Builds a values record with no prototype, so headers such as "__proto__" stay plain keys. */
export function emptyValues(): Record<string, CellValue> {
  return Object.create(null) as Record<string, CellValue>;
}
