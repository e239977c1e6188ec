// Parses the parts of an .xlsx with exceljs in the order they depend on each other, read from the file by offset.
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { INGEST_LIMIT_SETTINGS } from '../../schemas/ingest-limits';
import { ParseError } from './types';
import type { SheetCell } from './xlsx-cells';
import type { SpooledFile } from './spool';
import { openZipEntry, type ZipEntry } from './zip-guard';

export interface SheetRow {
  number: number;
  eachCell(options: { includeEmpty: boolean }, callback: (cell: SheetCell, column: number) => void): void;
}

export interface OpenedSheet {
  name: string;
  /** every sheet of the workbook, in order: said when the one read has no matching header */
  all: string[];
  rows: AsyncIterator<SheetRow>;
  date1904: boolean;
}

/**
 * The parsing steps of exceljs's streaming WorkbookReader, which its own `parse()` runs in the order the
 * zip happens to store the parts: a sheet stored before the shared strings is spooled to the system
 * temporary directory (and left there when the reader is not run to its end), and one seen before
 * workbook.xml fails with "Cannot read properties of undefined (reading 'sheets')", or ends the read
 * early. Called here one part at a time, each part read from the file by its offset, they always run
 * in order (relationships, workbook, styles, shared strings, then the one sheet wanted), nothing is
 * written to disk, and the other sheets are never unpacked.
 */
interface WorkbookParts {
  model?: { sheets?: { name: string; rId: string }[] };
  properties?: { model?: { date1904?: boolean } };
  workbookRels?: { Id: string; Target: string; Type: string }[];
  _parseRels(entry: Readable): Promise<void>;
  _parseWorkbook(entry: Readable): Promise<void>;
  _parseStyles(entry: Readable): Promise<void>;
  _parseSharedStrings(entry: Readable): AsyncGenerator<unknown>;
  _parseWorksheet(
    iterator: AsyncIterable<unknown>,
    sheetNo: string,
  ): Generator<{ eventType: string; value: AsyncIterable<SheetRow> }>;
}

const RELATIONSHIP = {
  worksheet: /\/worksheet$/,
  sharedStrings: /\/sharedStrings$/,
  styles: /\/styles$/,
};

export interface OpenSheetOptions {
  /** Sheet name (exact, else ignoring case); the workbook's first sheet when left out. */
  sheet?: string;
  maxSharedStringsBytes: number;
}

/** A relationship's target as a path in the zip: relative to xl/, or absolute from the root. */
function partPath(target: string): string {
  return target.startsWith('/') ? target.slice(1) : posix.normalize(posix.join('xl', target));
}

function pickSheet<T extends { name: string }>(
  sheets: readonly T[],
  wanted: string | undefined,
): T | undefined {
  if (wanted === undefined) return sheets[0];
  return (
    sheets.find((s) => s.name === wanted) ??
    sheets.find((s) => s.name.trim().toLowerCase() === wanted.trim().toLowerCase())
  );
}

export async function openSheet(
  file: SpooledFile,
  entries: readonly ZipEntry[],
  options: OpenSheetOptions,
): Promise<OpenedSheet> {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const part = (path: string): Readable | undefined => {
    const entry = byName.get(path);
    return entry && openZipEntry(file, entry);
  };
  // its input is never read: the parts are handed to it one by one
  const book = new ExcelJS.stream.xlsx.WorkbookReader(undefined as never, {
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    worksheets: 'emit',
    entries: 'ignore',
  }) as unknown as WorkbookParts;

  const rels = part('xl/_rels/workbook.xml.rels');
  if (!rels) throw notWorkbook('it has no xl/_rels/workbook.xml.rels');
  await book._parseRels(rels);
  await book._parseWorkbook(part('xl/workbook.xml')!);
  const related = (type: RegExp) =>
    (book.workbookRels ?? []).filter((r) => type.test(r.Type)).map((r) => partPath(r.Target));

  const stylesPath = related(RELATIONSHIP.styles)[0] ?? 'xl/styles.xml';
  const styles = part(stylesPath);
  if (styles) await book._parseStyles(styles);

  const stringsPath = related(RELATIONSHIP.sharedStrings)[0] ?? 'xl/sharedStrings.xml';
  const stringsEntry = byName.get(stringsPath);
  if (stringsEntry) {
    // the reader holds every shared string in memory; the part's size (checked against what it really
    // unpacks to before) bounds what that costs
    if (stringsEntry.uncompressedSize > options.maxSharedStringsBytes) {
      const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
      throw new ParseError(
        'xlsx-too-large',
        `the workbook's shared strings (${stringsPath}) unpack to ${mb(stringsEntry.uncompressedSize)}, over the ${mb(options.maxSharedStringsBytes)} limit (${INGEST_LIMIT_SETTINGS.maxSharedStringsBytes}); send the sheet as CSV, or raise ${INGEST_LIMIT_SETTINGS.maxSharedStringsBytes}`,
      );
    }
    for await (const _ of book._parseSharedStrings(openZipEntry(file, stringsEntry)));
  }

  const sheets = (book.model?.sheets ?? []).flatMap((sheet) => {
    const rel = book.workbookRels?.find((r) => r.Id === sheet.rId && RELATIONSHIP.worksheet.test(r.Type));
    const entry = rel && byName.get(partPath(rel.Target));
    return entry ? [{ name: sheet.name, entry }] : [];
  });
  const chosen = pickSheet(sheets, options.sheet);
  if (!chosen) {
    throw new ParseError(
      'sheet-not-found',
      options.sheet === undefined
        ? 'the workbook has no sheets'
        : `the workbook has no sheet named ${JSON.stringify(options.sheet)}; its sheets are ${sheets.map((s) => JSON.stringify(s.name)).join(', ')}`,
    );
  }
  const sheetNo = /(\d+)\.xml$/.exec(chosen.entry.name)?.[1] ?? '1';
  const [emitted] = book._parseWorksheet(openZipEntry(file, chosen.entry), sheetNo);
  if (!emitted) throw notWorkbook(`its sheet ${JSON.stringify(chosen.name)} could not be opened`);
  return {
    name: chosen.name,
    all: sheets.map((s) => s.name),
    rows: emitted.value[Symbol.asyncIterator](),
    date1904: book.properties?.model?.date1904 === true,
  };
}

function notWorkbook(detail: string): ParseError {
  return new ParseError(
    'not-xlsx',
    `the file is not a readable .xlsx workbook: ${detail}; save it again from Excel as .xlsx, or send a CSV`,
  );
}
