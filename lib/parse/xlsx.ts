// Streaming .xlsx reader: spools the upload to a temporary file, checks the zip, then reads one sheet with exceljs.
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import { ByteCounter, countBytes } from './bytes';
import { checkHeaders } from './headers';
import { emptyValues, ParseError, type ByteSource, type ParsedRow, type RowReader } from './types';
import { inspectZip, verifyInflatedSizes } from './zip-guard';
import { cellToValue, type SheetCell } from './xlsx-cells';

export interface XlsxOptions {
  /** Sheet name (exact, else ignoring case); the workbook's first sheet when left out. */
  sheet?: string;
  /** Refuse workbooks whose parts unpack to more than this (default 1 GiB). */
  maxUncompressedBytes?: number;
  /** Refuse sheets with rows past this number (default 1,048,576, Excel's own limit). */
  maxRows?: number;
  /** Refuse uploads larger than this before unpacking anything (default 256 MiB). */
  maxFileBytes?: number;
  /** Where the upload is spooled; the system temporary directory by default. */
  tmpDir?: string;
}

// The parts of exceljs's streaming reader this module reads; its published types leave them out.
interface SheetRow {
  number: number;
  eachCell(options: { includeEmpty: boolean }, callback: (cell: SheetCell, column: number) => void): void;
}
interface SheetReader extends AsyncIterable<SheetRow> {
  name: string;
}
interface WorkbookReaderInternals extends AsyncIterable<SheetReader> {
  model?: { sheets?: { name: string }[] };
  properties?: { model?: { date1904?: boolean } };
}

const GiB = 1024 * 1024 * 1024;

async function spool(
  input: ByteSource,
  path: string,
  counter: ByteCounter,
  maxFileBytes: number,
): Promise<void> {
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
  await pipeline(Readable.from(limited()), createWriteStream(path));
}

function pickSheet(sheets: readonly string[], wanted: string | undefined): string | undefined {
  if (wanted === undefined) return sheets[0];
  return (
    sheets.find((name) => name === wanted) ??
    sheets.find((name) => name.trim().toLowerCase() === wanted.trim().toLowerCase())
  );
}

/**
 * Opens an .xlsx stream and reads the chosen sheet up to its header row (its first non-blank row).
 * Row numbers are the sheet's own; blank rows are skipped; columns without a header are ignored.
 * Date-formatted cells (values and formula results) become Dates holding the wall-clock time as UTC;
 * formulas give their cached result; rich text is flattened. `bytesRead` counts the workbook bytes the
 * sheet reader has consumed, the upload having been spooled first.
 */
export async function readXlsx(input: ByteSource, options: XlsxOptions = {}): Promise<RowReader> {
  const limits = { maxUncompressedBytes: options.maxUncompressedBytes ?? GiB, maxEntries: 10_000 };
  const maxRows = options.maxRows ?? 1_048_576;
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'herald-xlsx-'));
  const path = join(dir, 'upload.xlsx');
  const counter = new ByteCounter();
  let file: ReadStream | undefined;
  let sheetRows: AsyncIterator<SheetRow> | undefined;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await sheetRows?.return?.();
    file?.destroy();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await spool(input, path, new ByteCounter(), options.maxFileBytes ?? 256 * 1024 * 1024);
    const entries = await inspectZip(path, limits);
    if (!entries.some((entry) => entry.name === 'xl/workbook.xml')) {
      throw new ParseError(
        'not-xlsx',
        'the file is a zip archive but not an Excel workbook (it has no xl/workbook.xml)',
      );
    }
    await verifyInflatedSizes(path, entries, limits);

    file = createReadStream(path);
    const counted = Readable.from(countBytes(file, counter));
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(counted, {
      sharedStrings: 'cache',
      styles: 'cache',
      hyperlinks: 'ignore',
      worksheets: 'emit',
      entries: 'ignore',
    }) as unknown as WorkbookReaderInternals;
    const sheetNames = (): string[] => reader.model?.sheets?.map((sheet) => sheet.name) ?? [];

    let sheet: SheetReader | undefined;
    const sheets = reader[Symbol.asyncIterator]();
    for (let next = await readWorkbook(sheets.next()); !next.done; next = await readWorkbook(sheets.next())) {
      const target =
        pickSheet(sheetNames(), options.sheet) ?? (options.sheet === undefined ? next.value.name : undefined);
      if (next.value.name === target) {
        sheet = next.value;
        break;
      }
    }
    if (!sheet) {
      const names = sheetNames()
        .map((name) => JSON.stringify(name))
        .join(', ');
      throw new ParseError(
        'sheet-not-found',
        options.sheet === undefined
          ? 'the workbook has no sheets'
          : `the workbook has no sheet named ${JSON.stringify(options.sheet)}; its sheets are ${names}`,
      );
    }
    const date1904 = reader.properties?.model?.date1904 === true;
    sheetRows = sheet[Symbol.asyncIterator]();
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
        const value = cellToValue(cell, date1904);
        if (value !== null) cells.set(column, value);
      });
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
      get bytesRead() {
        return counter.bytes;
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
