import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanName } from '../../lib/clean/names';
import { properCaseName } from '../../lib/name-case';

const value = (input: unknown, options?: Parameters<typeof cleanName>[1]) => {
  const result = cleanName(input, options);
  if (!result.ok) throw new Error(result.reason);
  return result.value;
};

describe('name cleaning', () => {
  it.each([
    ["JOHN O'BRIEN", "John O'Brien"],
    ['mary-jane smith', 'Mary-Jane Smith'],
    ['MCDONALD', 'McDonald'],
    ['  john    smith  ', 'John Smith'],
    ['JOSÉ ÁLVAREZ', 'José Álvarez'],
    ['MARIA DE LA CRUZ', 'Maria de la Cruz'],
    ['LUDWIG VAN BEETHOVEN', 'Ludwig van Beethoven'],
    ['JOHN SMITH JR', 'John Smith Jr'],
    ['HENRY VIII', 'Henry Viii'],
    ['\tanna\nlee ', 'Anna Lee'],
  ])('proper-cases %j as %j', (input, expected) => {
    expect(value(input)).toBe(expected);
  });

  it.each(['McDonald', "O'Brien", 'de la Cruz', 'DeShawn', 'van der Berg', 'MacKenzie', 'LaToya'])(
    'keeps mixed case %j as given',
    (name) => {
      expect(value(name)).toBe(name);
    },
  );

  it('lowercases leading particles of a family name, as the family name is written', () => {
    expect(value('DE LA CRUZ', { part: 'family' })).toBe('de la Cruz');
    expect(value('VAN DER BERG', { part: 'family' })).toBe('van der Berg');
    expect(value('DI', { part: 'family' })).toBe('Di');
  });

  it('keeps a leading particle capitalised in a given or full name ("Van", "La Toya")', () => {
    expect(value('VAN MORRISON')).toBe('Van Morrison');
    expect(value('LA TOYA JACKSON', { part: 'given' })).toBe('La Toya Jackson');
    expect(value('DE LA CRUZ')).toBe('De la Cruz');
  });

  it('passes blank values through as null', () => {
    expect(value('')).toBeNull();
    expect(value('   ')).toBeNull();
    expect(value(null)).toBeNull();
  });

  it('rejects values that cannot be a name, saying why', () => {
    expect(cleanName('12345')).toEqual({ ok: false, reason: '"12345" is not a name: it has no letters' });
    expect(cleanName('--')).toMatchObject({ ok: false });
    expect(cleanName(42)).toEqual({ ok: false, reason: '"42" is not a name: expected text' });
    expect(cleanName('a'.repeat(101))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('longer than 100 characters'),
    });
  });

  it('gives the same name whether or not its spelling was cased before (the memo of cased names)', () => {
    const word = fc.stringMatching(/^[A-Za-z][A-Za-zÀ-ÿ'-]{0,11}$/);
    const name = fc.array(word, { minLength: 1, maxLength: 4 }).map((words) => words.join(' '));
    fc.assert(
      fc.property(
        name,
        fc.constantFrom('full' as const, 'given' as const, 'family' as const),
        (text, part) => {
          const first = value(text, { part });
          expect(value(text, { part })).toBe(first);
          if (part !== 'family') expect(first).toBe(properCaseName(text));
        },
      ),
      { numRuns: 2000 },
    );
    // past the memo's bound (it starts over when full) a spelling seen long ago is cased again, alike
    const early = value('MARIA DE LA CRUZ', { part: 'family' });
    for (let i = 0; i < 25_000; i += 1) value(`NAME ${i}`);
    expect(value('MARIA DE LA CRUZ', { part: 'family' })).toBe(early);
    expect(early).toBe('Maria de la Cruz');
  });
});
