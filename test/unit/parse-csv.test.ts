import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { readCsv, type CsvOptions } from '../../lib/parse/csv';
import { ParseError, type ParsedRow } from '../../lib/parse/types';

// Feeds the bytes in chunks of `size`, so every test also crosses chunk boundaries at awkward places.
function source(content: string | Buffer, size = 0): Readable {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  if (size <= 0) return Readable.from([bytes]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function readAll(
  content: string | Buffer,
  options: CsvOptions = {},
  size = 0,
): Promise<{ headers: readonly string[]; rows: ParsedRow[] }> {
  const reader = await readCsv(source(content, size), options);
  const rows: ParsedRow[] = [];
  for await (const row of reader.rows()) rows.push(row);
  return { headers: reader.headers, rows };
}

async function parseError(content: string | Buffer, options: CsvOptions = {}, size = 0): Promise<ParseError> {
  try {
    await readAll(content, options, size);
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
  throw new Error('expected a ParseError');
}

const plain = (rows: ParsedRow[]) => rows.map((r) => ({ rowNumber: r.rowNumber, values: { ...r.values } }));

describe.each([0, 1, 3, 7])('CSV reader (chunks of %i bytes, 0 = whole file)', (size) => {
  it.each([
    [',', 'first,last,phone\nAnn,Lee,4155552671\nBob,Ray,\n'],
    [';', 'first;last;phone\nAnn;Lee;4155552671\nBob;Ray;\n'],
    ['|', 'first|last|phone\nAnn|Lee|4155552671\nBob|Ray|\n'],
    ['tab', 'first\tlast\tphone\nAnn\tLee\t4155552671\nBob\tRay\t\n'],
  ])('detects the %s delimiter', async (_name, csv) => {
    const { headers, rows } = await readAll(csv, {}, size);
    expect(headers).toEqual(['first', 'last', 'phone']);
    expect(plain(rows)).toEqual([
      { rowNumber: 2, values: { first: 'Ann', last: 'Lee', phone: '4155552671' } },
      { rowNumber: 3, values: { first: 'Bob', last: 'Ray', phone: null } },
    ]);
  });

  it('ignores delimiters inside quotes when detecting', async () => {
    const { headers, rows } = await readAll('"a;b";c\n"x;y";z\n"1;2";3\n', {}, size);
    expect(headers).toEqual(['a;b', 'c']);
    expect(rows[0]?.values).toEqual({ 'a;b': 'x;y', c: 'z' });
  });

  it('reads a UTF-8 BOM, CRLF line ends, quoted line breaks and doubled quotes', async () => {
    const csv = '\uFEFFname,notes\r\n"Lee, Ann","said ""hi""\r\nthen left"\r\nBob,plain\r\n';
    const { headers, rows } = await readAll(csv, {}, size);
    expect(headers).toEqual(['name', 'notes']);
    expect(plain(rows)).toEqual([
      { rowNumber: 2, values: { name: 'Lee, Ann', notes: 'said "hi"\r\nthen left' } },
      { rowNumber: 3, values: { name: 'Bob', notes: 'plain' } },
    ]);
  });

  it('numbers rows as a spreadsheet does: blank lines count, quoted line breaks do not', async () => {
    const csv = '\n\nid,note\n1,"two\nlines"\n\n2,x\n,\n3,y';
    const { rows } = await readAll(csv, {}, size);
    expect(rows.map((r) => [r.rowNumber, r.values.id])).toEqual([
      [4, '1'],
      [6, '2'],
      [8, '3'],
    ]);
  });

  it('reads UTF-16 LE and BE with a BOM', async () => {
    const text = 'name,city\nJosé,Zürich\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
    for (const bytes of [le, be]) {
      const { rows } = await readAll(bytes, {}, size);
      expect(rows[0]?.values).toEqual({ name: 'José', city: 'Zürich' });
    }
  });

  it('reads UTF-16 LE without a BOM by its zero bytes', async () => {
    const { rows } = await readAll(Buffer.from('name,city\nAnn,Rome\n', 'utf16le'), {}, size);
    expect(rows[0]?.values).toEqual({ name: 'Ann', city: 'Rome' });
  });

  it('falls back to Windows-1252 when the bytes are not UTF-8 (café as 0xE9)', async () => {
    const bytes = Buffer.concat([
      Buffer.from('name,drink\nAnn,caf'),
      Buffer.from([0xe9]),
      Buffer.from('\nBob,'),
      Buffer.from([0x93, 0x74, 0x65, 0x61, 0x94]),
      Buffer.from('\n'),
    ]);
    const { rows } = await readAll(bytes, {}, size);
    expect(rows.map((r) => r.values.drink)).toEqual(['café', '\u201ctea\u201d']);
  });

  it('reads Windows-1252 when configured, and refuses bad UTF-8 when UTF-8 is configured', async () => {
    const bytes = iconv.encode('name\nRenée\n', 'win1252');
    expect((await readAll(bytes, { encoding: 'windows-1252' }, size)).rows[0]?.values.name).toBe('Renée');
    const error = await parseError(bytes, { encoding: 'utf-8' }, size);
    expect(error.code).toBe('encoding');
    expect(error.message).toContain('not valid UTF-8');
  });

  it('refuses a UTF-8 file that turns into another encoding part way', async () => {
    const bytes = Buffer.concat([Buffer.from('name\nJosé\n'), Buffer.from([0xe9, 0x0a])]);
    const error = await parseError(bytes, {}, size);
    expect(error.code).toBe('encoding');
  });

  it('names the row of malformed quoting', async () => {
    const error = await parseError('a,b\n1,2\n3,"x"y\n5,6\n', {}, size);
    expect(error.code).toBe('malformed-quotes');
    expect(error.rowNumber).toBe(3);
    expect(error.message).toMatch(/^row 3: a quoted value is followed by other characters; a quote/);
    // the file's text stays out of the error, which reaches logs, Temporal and webhooks
    expect(error.message).not.toContain('x"y');
  });

  it('names the row and column of a quote that is never closed', async () => {
    const error = await parseError('a,b\n1,2\n3,"never closed\n5,6\n', {}, size);
    expect(error.code).toBe('malformed-quotes');
    expect(error.message).toMatch(/^row 3, column "b": a quoted value is never closed/);
  });

  it('keeps a quote in the middle of an unquoted value, as spreadsheets do', async () => {
    const { rows } = await readAll('name,height\nAnn,5\'10"\n', {}, size);
    expect(rows[0]?.values.height).toBe('5\'10"');
  });

  it('refuses an empty file and a file of blank lines', async () => {
    expect((await parseError('', {}, size)).code).toBe('empty-file');
    expect((await parseError('\uFEFF', {}, size)).message).toBe('the file is empty');
    expect((await parseError('\n\r\n  \n', {}, size)).code).toBe('empty-file');
    expect((await parseError(',,,\n', {}, size)).code).toBe('empty-file');
  });

  it('returns zero rows for a header-only file', async () => {
    for (const csv of ['a,b,c', 'a,b,c\r\n', 'a,b,c\n\n\n']) {
      const { headers, rows } = await readAll(csv, {}, size);
      expect(headers).toEqual(['a', 'b', 'c']);
      expect(rows).toEqual([]);
    }
  });

  it('refuses duplicate headers, listing them', async () => {
    const error = await parseError('Phone,Name,Phone ,Email,Name\n1,2,3,4,5\n', {}, size);
    expect(error.code).toBe('duplicate-headers');
    expect(error.message).toBe(
      'row 1: the header repeats "Phone", "Name"; rename the columns so each name appears once',
    );
  });

  it('ignores columns without a header and trailing empty values', async () => {
    const { headers, rows } = await readAll('a,,b,\n1,x,2,\n3,,4\n5\n', {}, size);
    expect(headers).toEqual(['a', '', 'b', '']);
    expect(rows.map((r) => ({ ...r.values }))).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
      { a: '5', b: null },
    ]);
  });

  it('refuses a row with more values than the header (an unquoted delimiter)', async () => {
    const error = await parseError('name,phone\nSmith, Jr,4155552671\n', {}, size);
    expect(error.code).toBe('too-many-values');
    expect(error.message).toBe(
      'row 2 has 3 values but the header has 2 columns; a value probably contains an unquoted ","',
    );
  });

  it('unwraps Excel\'s ="..." text values and uses the configured delimiter', async () => {
    const { rows } = await readAll('zip;name\n="02134";"A;B"\n', { delimiter: ';' }, size);
    expect(rows[0]?.values).toEqual({ zip: '02134', name: 'A;B' });
  });

  it('makes rows with odd headers safe keys', async () => {
    const { rows } = await readAll('__proto__,constructor\n1,2\n', {}, size);
    expect(Object.keys(rows[0]!.values)).toEqual(['__proto__', 'constructor']);
    expect(rows[0]!.values.__proto__).toBe('1');
  });
});

describe('CSV text longer than one parse piece (4 KB)', () => {
  // quoted line breaks, CRLF, doubled quotes and characters outside the BMP fall on every kind of piece
  // boundary; the rows must be the same however the bytes arrive
  const names = ['Zoë', 'José 🎉', 'line\r\nbreak', 'say ""hi""', 'plain'];
  const lines = Array.from({ length: 3000 }, (_, i) => {
    const name = names[i % names.length]!;
    return `${i},"${name}",${'x'.repeat(i % 37)}\r\n`;
  });
  const file = 'id,name,pad\r\n' + lines.join('');

  it.each([0, 4093, 65_536])('reads every row once, in order (chunks of %i bytes)', async (size) => {
    const { rows } = await readAll(file, {}, size);
    expect(rows).toHaveLength(3000);
    rows.forEach((row, i) => {
      expect(row.values.id).toBe(String(i));
      expect(row.values.name).toBe(names[i % names.length]!.replace(/""/g, '"'));
      expect(row.values.pad).toBe(i % 37 === 0 ? null : 'x'.repeat(i % 37));
    });
    // a quoted line break adds no spreadsheet row of its own
    expect(rows.at(-1)!.rowNumber).toBe(3001);
  });

  it('hands the same rows over in the batches it parses them in, a piece at a time', async () => {
    const { rows } = await readAll(file, {}, 65_536);
    const reader = await readCsv(source(file, 65_536));
    const batches: (readonly ParsedRow[])[] = [];
    for await (const batch of reader.batches()) batches.push(batch);
    expect(batches.flat()).toEqual(rows);
    // a 4 KB piece holds dozens of these rows: one promise per piece, not per row
    expect(batches.length).toBeLessThan(rows.length / 20);
    expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(1);
  });
});

describe('CSV size limits', () => {
  it('refuses a 10 MB field over the 1 MiB default, naming row and column, without reading it all', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const reader = await readCsv(source(`id,notes,z\n1,ok,z\n2,"${big}",z\n3,ok,z\n`, 64 * 1024));
    const seen: number[] = [];
    let error: unknown;
    try {
      for await (const row of reader.rows()) seen.push(row.rowNumber);
    } catch (e) {
      error = e;
    }
    expect(seen).toEqual([2]);
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).code).toBe('field-too-large');
    expect((error as ParseError).message).toMatch(
      /^row 3, column "notes": the value is longer than 1048576 characters/,
    );
    // refused at the row limit (3 columns x 1 MiB) plus a chunk, not at the end of the 10 MB value
    expect(reader.bytesRead).toBeLessThan(5 * 1024 * 1024);
  });

  it('refuses an unquoted over-long value too, and honours a configured limit', async () => {
    const error = await parseError(`a,b\n1,${'y'.repeat(200)}\n`, { maxFieldLength: 100 });
    expect(error.message).toMatch(/^row 2, column "b": the value is longer than 100 characters/);
    expect(error.column).toBe('column "b"');
  });

  it('refuses an unclosed quote that swallows the rest of a large file at the limit', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `${i},value ${i}`).join('\n');
    const error = await parseError(`a,b\n1,"oops\n${rows}\n`, { maxFieldLength: 1000 }, 4096);
    expect(error.code).toBe('field-too-large');
    expect(error.rowNumber).toBe(2);
  });

  it('refuses a header or a row wider than the column limit, naming the setting', async () => {
    const header = Array.from({ length: 30 }, (_, i) => `c${i}`).join(',');
    const wide = await parseError(`${header}\n1,2\n`, { maxColumns: 20 });
    expect(wide.code).toBe('too-many-columns');
    expect(wide.message).toMatch(/^row 1 has 30 values, over the limit of 20 columns \(INGEST_MAX_COLUMNS\)/);
    const row = await parseError(`a,b\n1,2\n${','.repeat(40)}\n`, { maxColumns: 20 });
    expect(row.rowNumber).toBe(3);
    expect(row.code).toBe('too-many-columns');
  });

  it('refuses a line longer than the line limit while reading it, naming the setting', async () => {
    const endless = `a,b\n1,${'z'.repeat(200_000)}`;
    const error = await parseError(endless, { maxLineLength: 10_000 }, 4096);
    expect(error.code).toBe('field-too-large');
    expect(error.rowNumber).toBe(2);
    expect(error.message).toMatch(/INGEST_MAX_LINE_CHARS/);
    const many = await parseError(
      `a,b\n${'1,'.repeat(20_000)}`,
      { maxLineLength: 10_000, maxColumns: 100_000 },
      4096,
    );
    expect(many.message).toMatch(
      /^row 2 is longer than 10000 characters \(\d+ values so far\), the limit for one line \(INGEST_MAX_LINE_CHARS\)/,
    );
  });

  it('reports bytes consumed as it goes', async () => {
    const csv = `a,b\n${Array.from({ length: 20000 }, (_, i) => `${i},x`).join('\n')}\n`;
    const reader = await readCsv(source(csv, 16 * 1024));
    let midway = 0;
    let count = 0;
    for await (const row of reader.rows()) {
      count += 1;
      if (row.rowNumber === 10000) midway = reader.bytesRead;
    }
    expect(count).toBe(20000);
    expect(midway).toBeGreaterThan(0);
    expect(midway).toBeLessThan(Buffer.byteLength(csv));
    expect(reader.bytesRead).toBe(Buffer.byteLength(csv));
  });

  it('releases the input when the reader stops early', async () => {
    const input = source(`a\n${'1\n'.repeat(100000)}`, 1024);
    const reader = await readCsv(input);
    for await (const row of reader.rows()) if (row.rowNumber === 5) break;
    expect(input.destroyed).toBe(true);
    const other = source('a\n1\n');
    await (await readCsv(other)).close();
    expect(other.destroyed).toBe(true);
  });
});
