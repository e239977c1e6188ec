import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { detectFormat, matchColumns, normalizeHeader, openRows, ParseError } from '../../lib/parse';

describe('normalizeHeader', () => {
  it('ignores case, spaces, punctuation and accents', () => {
    const forms = ['First Name ', 'first_name', 'FIRST-NAME', 'first.name', ' FirstName', 'Fírst Name'];
    expect(new Set(forms.map(normalizeHeader))).toEqual(new Set(['firstname']));
    expect(normalizeHeader('Appt Date/Time (local)')).toBe('apptdatetimelocal');
    expect(normalizeHeader('Téléphone #2')).toBe('telephone2');
  });
});

describe('matchColumns', () => {
  const expected = [
    { field: 'first_name', column: 'First Name', required: true },
    { field: 'last_name', column: ['Last Name', 'Surname'], required: true },
    { field: 'phone', column: ['Cell Phone', 'Phone'], required: true },
    { field: 'email', column: 'Email' },
  ];

  it('maps fields to the columns found, trying alternatives in order', () => {
    expect(matchColumns(['FIRST_NAME', 'surname', 'Phone', 'Cell phone', 'Notes'], expected)).toEqual({
      ok: true,
      mapping: { first_name: 'FIRST_NAME', last_name: 'surname', phone: 'Cell phone' },
      unmatched: ['Phone', 'Notes'],
    });
  });

  it('lists what is missing and what the file has', () => {
    const result = matchColumns(['First Name', 'Mobile', 'Email'], expected);
    expect(result).toEqual({
      ok: false,
      reason:
        'last_name needs a column named "Last Name" or "Surname"; phone needs a column named "Cell Phone" or "Phone". The file\'s columns are: "First Name", "Mobile", "Email"',
      missing: ['last_name', 'phone'],
      found: ['First Name', 'Mobile', 'Email'],
    });
  });

  it('refuses a name that matches two columns', () => {
    const result = matchColumns(['First Name', 'first_name', 'Surname', 'Phone'], expected);
    expect(result).toMatchObject({
      ok: false,
      reason: expect.stringContaining(
        'first_name: columns "First Name" and "first_name" both match; rename one',
      ),
    });
  });

  it('leaves optional fields out when absent', () => {
    const result = matchColumns(['First Name', 'Last Name', 'Phone'], expected);
    expect(result.ok && result.mapping).toEqual({
      first_name: 'First Name',
      last_name: 'Last Name',
      phone: 'Phone',
    });
  });
});

describe('detectFormat', () => {
  it.each([
    [Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14]), undefined, 'xlsx'],
    [Buffer.from('  [{"a":1}]'), undefined, 'json'],
    [Buffer.from('\uFEFF\n{"a":1}\n'), undefined, 'ndjson'],
    [Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('[{}]', 'utf16le')]), undefined, 'json'],
    [Buffer.from('{"a":1}', 'utf16le'), undefined, 'ndjson'],
    [Buffer.from('name,phone\n'), 'data.json', 'csv'],
    [Buffer.from(''), 'export.XLSX', 'xlsx'],
    [Buffer.from(''), 'feed.jsonl', 'ndjson'],
    [Buffer.from('   '), undefined, 'csv'],
  ])('reads %j (%s) as %s', (bytes, filename, format) => {
    expect(detectFormat(bytes, filename)).toBe(format);
  });

  it('refuses legacy .xls, gzip and PDF with a reason', () => {
    expect(() => detectFormat(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0]))).toThrow(
      /legacy \.xls/,
    );
    expect(() => detectFormat(Buffer.from([0x1f, 0x8b, 8]))).toThrow(ParseError);
    expect(() => detectFormat(Buffer.from('%PDF-1.7'))).toThrow(/a PDF/);
  });
});

describe('openRows', () => {
  it('opens CSV, JSON, NDJSON and XLSX by their first bytes', async () => {
    const book = new ExcelJS.Workbook();
    book.addWorksheet('S').addRow(['a']).worksheet.addRow(['x']);
    const xlsx = Buffer.from(await book.xlsx.writeBuffer());
    const inputs: [Buffer, string][] = [
      [Buffer.from('a\nx\n'), 'csv'],
      [Buffer.from('[{"a":"x"}]'), 'json'],
      [Buffer.from('{"a":"x"}\n'), 'ndjson'],
      [xlsx, 'xlsx'],
    ];
    for (const [bytes, format] of inputs) {
      const reader = await openRows(Readable.from([bytes]));
      const rows = [];
      for await (const row of reader.rows()) rows.push({ ...row.values });
      expect([reader.format, reader.headers, rows]).toEqual([format, ['a'], [{ a: 'x' }]]);
      expect(reader.bytesRead).toBe(bytes.length);
    }
  });

  it('honours a forced format and refuses unreadable ones', async () => {
    const reader = await openRows(Readable.from([Buffer.from('[x]\n1\n')]), { format: 'csv' });
    expect(reader.headers).toEqual(['[x]']);
    await reader.close();
    await expect(openRows(Readable.from([Buffer.from('%PDF-1.4 ...')]))).rejects.toThrow(/a PDF/);
  });
});
