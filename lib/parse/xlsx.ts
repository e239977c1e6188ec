// Streaming .xlsx reader: spools the upload to an unnamed temporary file, checks the zip, then reads one sheet with exceljs.
import { DEFAULT_INGEST_LIMITS, INGEST_LIMIT_SETTINGS } from '../../schemas/ingest-limits';
import { ByteCounter, countBytes } from './bytes';
import { checkHeaders } from './headers';
import { SpooledFile } from './spool';
import { emptyValues, ParseError, type ByteSource, type ParsedRow, type RowReader } from './types';
import { cellToValue } from './xlsx-cells';
import { openSheet, type SheetRow } from './xlsx-parts';
import { inspectZip, verifyInflatedSizes } from './zip-guard';
import { inBatchesOfOne } from './row-batches';

export interface XlsxOptions {
  /** Sheet name (exact, else ignoring case); the workbook's first sheet when left out. */
  sheet?: string;
  /** Refuse workbooks whose parts unpack to more than this (default 1 GiB). */
  maxUncompressedBytes?: number;
  /** Refuse sheets with rows past this number (default 1,048,576, Excel's own limit). */
  maxRows?: number;
  /** Refuse uploads larger than this before unpacking anything (default 256 MiB). */
  maxFileBytes?: number;
  /** Refuse a header wider than this, and rows with more cells. */
  maxColumns?: number;
  /** Refuse shared strings that unpack to more than this: they are all held in memory. */
  maxSharedStringsBytes?: number;
  /** Where the upload is spooled; the system temporary directory by default. */
  tmpDir?: string;
}

const GiB = 1024 * 1024 * 1024;

async function spool(input: ByteSource, dir: string | undefined, maxFileBytes: number): Promise<SpooledFile> {
  const counter = new ByteCounter();
  async function* limited(): AsyncGenerator<Buffer> {
    for await (const chunk of countBytes(input, counter)) {
      if (counter.bytes > maxFileBytes) {
        throw new ParseError(
          'xlsx-too-large',
          `the workbook file is larger than ${Math.round(maxFileBytes / 1024 / 1024)} MB; split it or send a CSV`,
        );
      }
      yield chunk;
    }
  }
  return SpooledFile.write(limited(), dir);
}

/**
 * Opens an .xlsx stream and reads the chosen sheet up to its header row (its first non-blank row).
 * Row numbers are the sheet's own; blank rows are skipped; columns without a header are ignored.
 * Date-formatted cells (values and formula results) become Dates holding the wall-clock time as UTC;
 * formulas give their cached result; rich text is flattened. `bytesRead` is the whole upload's size
 * from the start, since it is spooled before the sheet is read.
 */
export async function readXlsx(input: ByteSource, options: XlsxOptions = {}): Promise<RowReader> {
  const limits = { maxUncompressedBytes: options.maxUncompressedBytes ?? GiB, maxEntries: 10_000 };
  const maxRows = options.maxRows ?? 1_048_576;
  const maxColumns = options.maxColumns ?? DEFAULT_INGEST_LIMITS.maxColumns;
  const file = await spool(input, options.tmpDir, options.maxFileBytes ?? 256 * 1024 * 1024);
  let sheetRows: AsyncIterator<SheetRow> | undefined;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await sheetRows?.return?.();
    await file.close();
  };
  try {
    const entries = await inspectZip(file, limits);
    if (!entries.some((entry) => entry.name === 'xl/workbook.xml')) {
      throw new ParseError(
        'not-xlsx',
        'the file is a zip archive but not an Excel workbook (it has no xl/workbook.xml)',
      );
    }
    await verifyInflatedSizes(file, entries, limits);
    const sheet = await readWorkbook(
      openSheet(file, entries, {
        sheet: options.sheet,
        maxSharedStringsBytes: options.maxSharedStringsBytes ?? DEFAULT_INGEST_LIMITS.maxSharedStringsBytes,
      }),
    );
    sheetRows = sheet.rows;
    const rowsOf = sheetRows;

    const valuesOf = (row: SheetRow): Map<number, ReturnType<typeof cellToValue>> => {
      if (row.number > maxRows)
        throw new ParseError(
          'too-many-rows',
          `the sheet has rows past row ${maxRows}, the limit; split the file`,
          row.number,
        );
      const cells = new Map<number, ReturnType<typeof cellToValue>>();
      row.eachCell({ includeEmpty: false }, (cell, column) => {
        const value = cellToValue(cell, sheet.date1904);
        if (value !== null) cells.set(column, value);
      });
      if (cells.size > maxColumns)
        throw new ParseError(
          'too-many-columns',
          `row ${row.number} has ${cells.size} cells, over the limit of ${maxColumns} columns (${INGEST_LIMIT_SETTINGS.maxColumns}); raise ${INGEST_LIMIT_SETTINGS.maxColumns} if the sheet really is that wide`,
          row.number,
        );
      return cells;
    };

    let headerRow: { number: number; cells: Map<number, ReturnType<typeof cellToValue>> } | undefined;
    for (let next = await readWorkbook(rowsOf.next()); !next.done; next = await readWorkbook(rowsOf.next())) {
      const cells = valuesOf(next.value);
      if (cells.size > 0) {
        headerRow = { number: next.value.number, cells };
        break;
      }
    }
    if (!headerRow) throw new ParseError('empty-file', `sheet ${JSON.stringify(sheet.name)} is empty`);
    const width = Math.max(...headerRow.cells.keys());
    if (width > maxColumns)
      throw new ParseError(
        'too-many-columns',
        `row ${headerRow.number}: the header reaches column ${width}, over the limit of ${maxColumns} columns (${INGEST_LIMIT_SETTINGS.maxColumns}); raise ${INGEST_LIMIT_SETTINGS.maxColumns} if the sheet really is that wide`,
        headerRow.number,
      );
    const raw = Array.from({ length: width }, (_, i) => {
      const value = headerRow.cells.get(i + 1);
      return value instanceof Date
        ? value.toISOString()
        : value === null || value === undefined
          ? ''
          : String(value);
    });
    const headers = checkHeaders(raw, headerRow.number);

    return {
      format: 'xlsx',
      headers,
      sheet: { name: sheet.name, all: sheet.all },
      // the whole input was consumed while spooling
      get bytesRead() {
        return file.size;
      },
      async *rows(): AsyncGenerator<ParsedRow> {
        try {
          for (
            let next = await readWorkbook(rowsOf.next());
            !next.done;
            next = await readWorkbook(rowsOf.next())
          ) {
            const cells = valuesOf(next.value);
            if (cells.size === 0) continue;
            const values = emptyValues();
            headers.forEach((header, i) => {
              if (header !== '') values[header] = cells.get(i + 1) ?? null;
            });
            yield { rowNumber: next.value.number, values };
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

// exceljs reports damaged XML or zips with its own errors; they become a ParseError a person can act on.
async function readWorkbook<T>(step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (error) {
    if (error instanceof ParseError) throw error;
    throw new ParseError(
      'not-xlsx',
      `the workbook could not be read (${(error as Error).message}); save it again from Excel as .xlsx, or send a CSV`,
    );
  }
}

/**
 * For a file whose header does not fit the map: which sheet of a workbook was read and what others it
 * has (a cover or "Read Me" sheet before the data is common); undefined for other formats.
 */
export function describeSheetRead(
  reader: Pick<RowReader, 'sheet'>,
  named: string | undefined,
): string | undefined {
  if (!reader.sheet) return undefined;
  const others = reader.sheet.all.filter((n) => n !== reader.sheet!.name);
  const how =
    named === undefined
      ? "the workbook's first sheet; the load map names none"
      : 'the sheet the load map names';
  return (
    `sheet ${JSON.stringify(reader.sheet.name)} was read (${how})` +
    (others.length
      ? `; the workbook's other sheets: ${others.map((n) => JSON.stringify(n)).join(', ')}. To read another, set "format": { "kind": "xlsx", "sheet": NAME } in the load map`
      : '; the workbook has no other sheet')
  );
}
