import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readJson, type JsonOptions } from '../../lib/parse/json';
import { ParseError } from '../../lib/parse/types';

function source(text: string, size: number): Readable {
  const bytes = Buffer.from(text);
  if (size <= 0) return Readable.from([bytes]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function readAll(text: string, options: JsonOptions = {}, size = 0) {
  const reader = await readJson(source(text, size), options);
  const rows: { rowNumber: number; values: Record<string, unknown> }[] = [];
  for await (const row of reader.rows()) rows.push({ rowNumber: row.rowNumber, values: { ...row.values } });
  return { format: reader.format, headers: reader.headers, rows };
}

async function parseError(text: string, options: JsonOptions = {}, size = 0): Promise<ParseError> {
  try {
    await readAll(text, options, size);
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
  throw new Error('expected a ParseError');
}

describe.each([0, 1, 5])('JSON and NDJSON reader (chunks of %i bytes)', (size) => {
  it('reads a JSON array of objects, numbering records from 1', async () => {
    const json =
      ' [\n {"first": "Ann", "age": 41, "vip": true, "note": ""},\n {"first": "Bob, \\"B\\" ]}", "age": null, "extra": [1]}\n]\n';
    const { format, headers, rows } = await readAll(json, {}, size);
    expect(format).toBe('json');
    expect(headers).toEqual(['first', 'age', 'vip', 'note']);
    expect(rows).toEqual([
      { rowNumber: 1, values: { first: 'Ann', age: 41, vip: 'true', note: null } },
      { rowNumber: 2, values: { first: 'Bob, "B" ]}', age: null, vip: null, note: null, 'extra.0': 1 } },
    ]);
  });

  it('reads NDJSON line by line, counting blank lines', async () => {
    const { format, rows } = await readAll('{"a":1}\r\n\n{"a":2,"b":"x"}\n{"a":3}', {}, size);
    expect(format).toBe('ndjson');
    expect(rows).toEqual([
      { rowNumber: 1, values: { a: 1 } },
      { rowNumber: 3, values: { a: 2, b: 'x' } },
      { rowNumber: 4, values: { a: 3 } },
    ]);
  });

  it('flattens nested objects with dots by default', async () => {
    const { headers, rows } = await readAll(
      '[{"name":{"first":"Ann","last":"Lee"},"address":{"zip":"02134","geo":{}}}]',
      {},
      size,
    );
    expect(headers).toEqual(['name.first', 'name.last', 'address.zip', 'address.geo']);
    expect(rows[0]?.values).toEqual({
      'name.first': 'Ann',
      'name.last': 'Lee',
      'address.zip': '02134',
      'address.geo': null,
    });
  });

  it('rejects nested objects when asked, naming the record and key', async () => {
    const error = await parseError('{"a":1}\n{"a":{"b":2}}\n', { nested: 'reject' }, size);
    expect(error.code).toBe('nested-value');
    expect(error.message).toBe(
      'line 2 has a nested value at "a"; send flat objects, or let the load map flatten them',
    );
  });

  it('gives zero rows and no headers for an empty array', async () => {
    expect(await readAll(' [ ] ', {}, size)).toEqual({ format: 'json', headers: [], rows: [] });
  });

  it.each([
    ['', 'empty-file', 'the file is empty'],
    ['  \n ', 'empty-file', 'the file is empty'],
    [
      'name,phone\n',
      'invalid-json',
      'the file starts with "n"; expected a JSON array ([) or one JSON object per line ({)',
    ],
    [
      '[{"a":1},{"a":2}',
      'invalid-json',
      'the array is never closed: the file ends inside or after element 2; it may be cut short',
    ],
    ['[{"a":1},]', 'invalid-json', 'the array has a comma after element 1 and no element after it'],
    ['[{"a":1}] x', 'invalid-json', 'unexpected "x" after the end of the array'],
    ['[{"a":1}, 5]', 'invalid-json', 'element 2 of the array is a number, not an object of named values'],
    ['[[1,2]]', 'invalid-json', 'element 1 of the array is an array, not an object of named values'],
    ['{"a":1}\n{"a":}\n', 'invalid-json', 'line 2 is not valid JSON'],
    ['[{"a":1},{"a":tru}]', 'invalid-json', 'element 2 of the array is not valid JSON'],
    ['{"a":1,"a.b":2,"a":{"b":3}}', 'nested-value', 'twice once flattened'],
  ])('refuses %j', async (text, code, message) => {
    const error = await parseError(text, {}, size);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
  });
});

describe('JSON limits', () => {
  it('refuses an over-long record without buffering the rest', async () => {
    const long = `[{"a":"${'x'.repeat(5000)}"}]`;
    expect((await parseError(long, { maxRecordLength: 1000 }, 512)).message).toBe(
      'element 1 of the array is longer than 1000 characters, the limit for one record (INGEST_MAX_LINE_CHARS); raise INGEST_MAX_LINE_CHARS if its records really are that long',
    );
    const line = `{"a":1}\n{"a":"${'x'.repeat(5000)}"}\n`;
    expect((await parseError(line, { maxRecordLength: 1000 }, 512)).rowNumber).toBe(2);
  });

  it('refuses nesting past the depth limit without overflowing the stack, in arrays and NDJSON', async () => {
    const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    const array = await parseError(`[{"id":1},{"id":2,"x":${deep(100_000)}}]`, {}, 64 * 1024);
    expect(array.code).toBe('too-deep');
    expect(array.rowNumber).toBe(2);
    expect(array.message).toMatch(
      /^element 2 of the array nests objects or arrays more than 32 levels deep at "x(\.a)+", the limit \(INGEST_MAX_JSON_DEPTH\)/,
    );
    const line = await parseError(`{"id":1,"x":[[[[1]]]]}\n`, { maxDepth: 3 });
    expect(line.message).toMatch(/^line 1 nests objects or arrays more than 3 levels deep at "x\.0\.0"/);
    const read = await readJson(source(`{"id":1,"x":[[1]]}\n`, 64), { maxDepth: 3 });
    const rows = [];
    for await (const row of read.rows()) rows.push({ ...row.values });
    expect(rows).toEqual([{ id: 1, 'x.0.0': 1 }]);
  });

  it('refuses a record with more values than the column limit', async () => {
    const wide = `{${Array.from({ length: 50 }, (_, i) => `"k${i}":${i}`).join(',')}}\n`;
    const error = await parseError(wide, { maxColumns: 20 });
    expect(error.code).toBe('too-many-columns');
    expect(error.message).toMatch(
      /^line 1 has more than 20 values, the limit for one record \(INGEST_MAX_COLUMNS\)/,
    );
    const array = await parseError(`[{"list":[${Array.from({ length: 5000 }, (_, i) => i).join(',')}]}]`, {
      maxColumns: 100,
    });
    expect(array.code).toBe('too-many-columns');
  });

  it('streams a large array one element at a time', async () => {
    const count = 50_000;
    const json = `[${Array.from({ length: count }, (_, i) => `{"id":${i},"name":"n${i}"}`).join(',')}]`;
    const reader = await readJson(source(json, 64 * 1024));
    let rows = 0;
    let midway = 0;
    for await (const row of reader.rows()) {
      rows += 1;
      if (row.rowNumber === count / 2) midway = reader.bytesRead;
    }
    expect(rows).toBe(count);
    expect(midway).toBeLessThan(json.length);
    expect(reader.bytesRead).toBe(json.length);
  });
});
