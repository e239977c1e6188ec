import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { deflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseError, type ParsedRow } from '../../lib/parse/types';
import { readXlsx, type XlsxOptions } from '../../lib/parse/xlsx';
import { isDateFormat } from '../../lib/parse/xlsx-cells';
import { minimalWorkbook, type WorkbookPart } from '../support/workbook';
import { zip, type ZipPart } from '../support/zip';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'herald-xlsx-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function workbook(build: (book: ExcelJS.Workbook) => void): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  build(book);
  return Buffer.from(await book.xlsx.writeBuffer());
}

async function readAll(
  bytes: Buffer,
  options: XlsxOptions = {},
): Promise<{ headers: readonly string[]; rows: ParsedRow[]; bytesRead: number }> {
  const reader = await readXlsx(Readable.from([bytes]), { tmpDir: scratch, ...options });
  const rows: ParsedRow[] = [];
  for await (const row of reader.rows()) rows.push({ rowNumber: row.rowNumber, values: { ...row.values } });
  return { headers: reader.headers, rows, bytesRead: reader.bytesRead };
}

async function parseError(bytes: Buffer, options: XlsxOptions = {}): Promise<ParseError> {
  try {
    await readAll(bytes, options);
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
  throw new Error('expected a ParseError');
}

const MiB = 1024 * 1024;
const SAMPLE_WORKBOOK = 'loadmaps/samples/demo-school-conferences.xlsx';
const deflatedZeros = (bytes: number): ZipPart => ({
  name: 'xl/worksheets/sheet1.xml',
  data: deflateRawSync(Buffer.alloc(bytes), { level: 9 }),
  realSize: bytes,
});
const workbookXml: ZipPart = {
  name: 'xl/workbook.xml',
  data: deflateRawSync(Buffer.from('<workbook/>')),
  realSize: 11,
};

describe('XLSX reader', () => {
  it('reads dates, times, formulas by cached result, rich text, and skips blank rows', async () => {
    const bytes = await workbook((book) => {
      const sheet = book.addWorksheet('Patients');
      sheet.addRow(['First Name', 'Appt Date', 'Appt Time', 'Follow Up', 'Count', 'Notes', 'Phone']);
      sheet.addRow([
        'Ann',
        new Date(Date.UTC(2026, 2, 15)),
        14.5 / 24,
        { formula: 'B2+7', result: 46103 },
        { formula: '1+1', result: 2 },
        { richText: [{ text: 'call ' }, { font: { bold: true }, text: 'after 5' }] },
        4155552671,
      ]);
      sheet.getCell('B2').numFmt = 'mm/dd/yyyy';
      sheet.getCell('C2').numFmt = 'h:mm AM/PM';
      sheet.getCell('D2').numFmt = 'm/d/yy';
      sheet.addRow([]);
      sheet.addRow(['   ']);
      sheet.addRow([
        'Bob',
        '03/16/2026',
        '9:00 AM',
        null,
        { formula: 'E2*3', result: 6 },
        true,
        '(415) 555-2671',
      ]);
    });
    const { headers, rows, bytesRead } = await readAll(bytes);
    expect(headers).toEqual(['First Name', 'Appt Date', 'Appt Time', 'Follow Up', 'Count', 'Notes', 'Phone']);
    expect(rows).toEqual([
      {
        rowNumber: 2,
        values: {
          'First Name': 'Ann',
          'Appt Date': new Date(Date.UTC(2026, 2, 15)),
          'Appt Time': new Date(Date.UTC(1899, 11, 30, 14, 30)),
          'Follow Up': new Date(Date.UTC(2026, 2, 22)),
          Count: 2,
          Notes: 'call after 5',
          Phone: 4155552671,
        },
      },
      {
        rowNumber: 5,
        values: {
          'First Name': 'Bob',
          'Appt Date': '03/16/2026',
          'Appt Time': '9:00 AM',
          'Follow Up': null,
          Count: 6,
          Notes: 'true',
          Phone: '(415) 555-2671',
        },
      },
    ]);
    expect(bytesRead).toBeGreaterThan(0);
  });

  it('reads the first sheet by default, or a sheet by name (ignoring case)', async () => {
    const bytes = await workbook((book) => {
      book.addWorksheet('Summary').addRow(['total']).worksheet.addRow([3]);
      const detail = book.addWorksheet('Detail Rows');
      detail.addRow(['id', 'name']);
      detail.addRow([1, 'Ann']);
    });
    expect((await readAll(bytes)).rows).toEqual([{ rowNumber: 2, values: { total: 3 } }]);
    expect((await readAll(bytes, { sheet: 'Detail Rows' })).rows).toEqual([
      { rowNumber: 2, values: { id: 1, name: 'Ann' } },
    ]);
    expect((await readAll(bytes, { sheet: 'detail rows' })).headers).toEqual(['id', 'name']);
    const error = await parseError(bytes, { sheet: 'Patients' });
    expect(error.code).toBe('sheet-not-found');
    expect(error.message).toBe(
      'the workbook has no sheet named "Patients"; its sheets are "Summary", "Detail Rows"',
    );
  });

  it('finds the header below leading blank rows and ignores columns without a header', async () => {
    const bytes = await workbook((book) => {
      const sheet = book.addWorksheet('S');
      sheet.getCell('B3').value = 'id';
      sheet.getCell('D3').value = 'name';
      sheet.getCell('B4').value = 7;
      sheet.getCell('C4').value = 'stray';
      sheet.getCell('D4').value = 'Ann';
      sheet.getCell('F4').value = 'far away';
    });
    const { headers, rows } = await readAll(bytes);
    expect(headers).toEqual(['', 'id', '', 'name']);
    expect(rows).toEqual([{ rowNumber: 4, values: { id: 7, name: 'Ann' } }]);
  });

  it('refuses duplicate headers, an empty sheet and rows past the limit', async () => {
    const duplicated = await workbook((book) => book.addWorksheet('S').addRow(['Phone', 'Phone']));
    expect((await parseError(duplicated)).message).toBe(
      'row 1: the header repeats "Phone"; rename the columns so each name appears once',
    );
    const empty = await workbook((book) => book.addWorksheet('Blank'));
    expect((await parseError(empty)).message).toBe('sheet "Blank" is empty');
    const long = await workbook((book) => {
      const sheet = book.addWorksheet('S');
      for (let i = 0; i < 30; i += 1) sheet.addRow([i]);
    });
    const error = await parseError(long, { maxRows: 10 });
    expect(error.code).toBe('too-many-rows');
    expect(error.rowNumber).toBe(11);
  });

  it('refuses a file that is not a zip, a truncated workbook, and a zip that is not a workbook', async () => {
    expect((await parseError(Buffer.from('name,phone\nAnn,4155552671\n'))).code).toBe('not-xlsx');
    expect((await parseError(Buffer.alloc(0))).message).toMatch(
      /not a readable \.xlsx workbook: it is too short/,
    );
    const bytes = await workbook((book) => book.addWorksheet('S').addRow(['a']));
    expect((await parseError(bytes.subarray(0, Math.floor(bytes.length / 2)))).code).toBe('not-xlsx');
    const notWorkbook = zip([{ name: 'readme.txt', data: Buffer.from('hello'), deflated: false }]);
    expect((await parseError(notWorkbook)).message).toBe(
      'the file is a zip archive but not an Excel workbook (it has no xl/workbook.xml)',
    );
  });

  it('refuses a damaged part inside an otherwise sound zip', async () => {
    const damaged = zip([
      workbookXml,
      { name: 'xl/worksheets/sheet1.xml', data: Buffer.from('not deflate data at all'), realSize: 500 },
    ]);
    const error = await parseError(damaged);
    expect(error.code).toBe('not-xlsx');
    expect(error.message).toContain('part xl/worksheets/sheet1.xml is damaged');
  });

  it('refuses a zip bomb by the sizes its directory declares', async () => {
    const started = performance.now();
    const bomb = zip([workbookXml, deflatedZeros(200 * MiB)]);
    expect(bomb.length).toBeLessThan(MiB);
    const error = await parseError(bomb, { maxUncompressedBytes: 64 * MiB });
    expect(error.code).toBe('xlsx-too-large');
    expect(error.message).toBe('the workbook unpacks to 200 MB, over the 64 MB limit; it may be a zip bomb');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('refuses a zip bomb that lies about its size, by counting inflated bytes', async () => {
    const liar = zip([workbookXml, { ...deflatedZeros(200 * MiB), declaredSize: 4096 }]);
    const error = await parseError(liar, { maxUncompressedBytes: 64 * MiB });
    expect(error.code).toBe('xlsx-too-large');
    expect(error.message).toBe(
      'part xl/worksheets/sheet1.xml unpacks to more than the 4096 bytes it declares; the file may be a zip bomb',
    );
  });

  it('refuses entries hidden from the zip directory, which a streaming unzipper would still inflate', async () => {
    const sneaky = zip([workbookXml], [deflatedZeros(MiB)]);
    expect((await parseError(sneaky)).message).toMatch(/holds data its zip directory does not list/);
  });

  it('removes its temporary files when done, stopped early, or refused', async () => {
    const dir = await mkdtemp(join(scratch, 'own-'));
    const bytes = await workbook((book) => {
      const sheet = book.addWorksheet('S');
      sheet.addRow(['n']);
      for (let i = 0; i < 100; i += 1) sheet.addRow([i]);
    });
    const reader = await readXlsx(Readable.from([bytes]), { tmpDir: dir });
    for await (const row of reader.rows()) if (row.rowNumber === 3) break;
    await readXlsx(Readable.from([Buffer.from('junk')]), { tmpDir: dir }).catch(() => undefined);
    await (await readXlsx(Readable.from([bytes]), { tmpDir: dir })).close();
    expect(await readdir(dir)).toEqual([]);
  });

  it('reads a workbook whatever order its parts are stored in', async () => {
    const orders: WorkbookPart[][] = [
      ['xl/workbook.xml', 'xl/_rels/workbook.xml.rels', 'xl/sharedStrings.xml', 'xl/worksheets/sheet1.xml'],
      // the sheet before workbook.xml, after the shared strings and relationships
      ['xl/_rels/workbook.xml.rels', 'xl/sharedStrings.xml', 'xl/worksheets/sheet1.xml', 'xl/workbook.xml'],
      // the sheet first of all
      ['xl/worksheets/sheet1.xml', 'xl/sharedStrings.xml', 'xl/workbook.xml', 'xl/_rels/workbook.xml.rels'],
    ];
    for (const order of orders) {
      const read = await readAll(minimalWorkbook(order));
      expect(read.headers, order.join(' ')).toEqual(['Name', 'Visits']);
      expect(read.rows.map((r) => [r.rowNumber, r.values.Name, r.values.Visits])).toEqual([
        [2, 'Ann', 7],
        [3, 'Bob', 8],
      ]);
    }
  });

  it('leaves nothing in any temporary directory, while reading or after, whatever order the parts have', async () => {
    const tmp = await mkdtemp(join(scratch, 'tmpdir-'));
    const saved = process.env.TMPDIR;
    // exceljs's own reader spools sheets stored before the shared strings to os.tmpdir()
    process.env.TMPDIR = tmp;
    try {
      const sheetFirst = minimalWorkbook([
        'xl/worksheets/sheet1.xml',
        'xl/_rels/workbook.xml.rels',
        'xl/workbook.xml',
        'xl/sharedStrings.xml',
      ]);
      for (const bytes of [sheetFirst, await readFile(SAMPLE_WORKBOOK)]) {
        const reader = await readXlsx(Readable.from([bytes]));
        expect(await readdir(tmp)).toEqual([]);
        for await (const _ of reader.rows()) break;
        expect(await readdir(tmp)).toEqual([]);
        await readAll(bytes, { tmpDir: undefined });
        expect(await readdir(tmp)).toEqual([]);
      }
    } finally {
      process.env.TMPDIR = saved;
    }
  });

  it('reads the sample workbook hundreds of times with the same result', async () => {
    const sample = await readFile(SAMPLE_WORKBOOK);
    const reordered = minimalWorkbook([
      'xl/_rels/workbook.xml.rels',
      'xl/sharedStrings.xml',
      'xl/worksheets/sheet1.xml',
      'xl/workbook.xml',
    ]);
    const first = await readAll(sample, { sheet: 'Conferences' });
    expect(first.rows.length).toBeGreaterThan(5);
    for (let i = 0; i < 300; i += 1) {
      const again = await readAll(sample, { sheet: 'Conferences' });
      expect(again.rows.length).toBe(first.rows.length);
      expect((await readAll(reordered)).rows).toHaveLength(2);
    }
  }, 180_000);

  it('refuses shared strings over their limit before reading them, naming the setting', async () => {
    const bytes = await workbook((book) => {
      const sheet = book.addWorksheet('S');
      sheet.addRow(['n']);
      for (let i = 0; i < 2000; i += 1) sheet.addRow([`value number ${i}`]);
    });
    const error = await parseError(bytes, { maxSharedStringsBytes: 10_000 });
    expect(error.code).toBe('xlsx-too-large');
    expect(error.message).toMatch(
      /^the workbook's shared strings \(xl\/sharedStrings\.xml\) unpack to \d+ MB, over the 0 MB limit \(INGEST_MAX_XLSX_SHARED_STRINGS_MB\)/,
    );
    expect((await readAll(bytes, { maxSharedStringsBytes: 1024 * 1024 })).rows).toHaveLength(2000);
  });

  it('refuses a header wider than the column limit, naming the setting', async () => {
    const bytes = await workbook((book) => {
      const sheet = book.addWorksheet('S');
      sheet.addRow(Array.from({ length: 50 }, (_, i) => `c${i}`));
      sheet.addRow([1]);
    });
    const error = await parseError(bytes, { maxColumns: 20 });
    expect(error.code).toBe('too-many-columns');
    expect(error.message).toMatch(/^row 1 has 50 cells, over the limit of 20 columns \(INGEST_MAX_COLUMNS\)/);
    // two cells far apart: few cells, but a header as wide as the sheet
    const sparse = await workbook((book) => {
      const sheet = book.addWorksheet('S');
      sheet.getCell('A1').value = 'first';
      sheet.getCell('AX1').value = 'last';
      sheet.getCell('A2').value = 1;
    });
    const wide = await parseError(sparse, { maxColumns: 20 });
    expect(wide.message).toMatch(
      /^row 1: the header reaches column 50, over the limit of 20 columns \(INGEST_MAX_COLUMNS\)/,
    );
  });

  it('refuses uploads over the file size limit before unpacking', async () => {
    const bytes = await workbook((book) => book.addWorksheet('S').addRow(['a']));
    expect((await parseError(bytes, { maxFileBytes: 100 })).code).toBe('xlsx-too-large');
  });

  it('recognises date number formats as exceljs does', () => {
    expect(['mm/dd/yyyy', 'h:mm AM/PM', '[$-409]d-mmm-yy', 'yyyy-mm-dd hh:mm'].map(isDateFormat)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['0.00', '#,##0', '"Total"0', '[Red]0.0', undefined].map(isDateFormat)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
