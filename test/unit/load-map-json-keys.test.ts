import { describe, expect, it } from 'vitest';
import { findDuplicateKeys } from '../../lib/load-maps/json-keys';

describe('findDuplicateKeys', () => {
  it('finds a key written twice in one object, with the object path and the line of the repeat', () => {
    const text =
      '{\n  "fields": {\n    "phone": { "column": "Cell" },\n    "phone": { "column": "Home" }\n  }\n}';
    expect(findDuplicateKeys(text)).toEqual([{ path: 'fields', key: 'phone', line: 4 }]);
  });

  it('does not mix keys of different objects, arrays or nesting levels', () => {
    const text = JSON.stringify({ a: { x: 1 }, b: { x: 2, a: [{ x: 1 }, { x: 2 }] }, x: 3 });
    expect(findDuplicateKeys(text)).toEqual([]);
  });

  it('reads escaped keys as JSON does, and strings with braces and quotes as strings', () => {
    expect(findDuplicateKeys('{"a\\u0062": 1, "ab": 2, "s": "{\\"ab\\": 1}"}')).toEqual([
      { path: '', key: 'ab', line: 1 },
    ]);
    expect(findDuplicateKeys('[{"k": 1, "k": 2}]')).toEqual([{ path: '0', key: 'k', line: 1 }]);
  });
});
