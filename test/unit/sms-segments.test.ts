import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GSM_BASIC, GSM_EXTENSION, gsmSeptets, isGsmChar } from '../../lib/sms/gsm';
import { normalizeForGsm } from '../../lib/sms/lookalikes';
import { analyzeSms, checkSegmentLimit } from '../../lib/sms/segments';

const a = (n: number): string => 'a'.repeat(n);
const cyr = (n: number): string => '\u0439'.repeat(n); // й: outside GSM-7, one UTF-16 unit
const smile = '\u{1F600}'; // a surrogate pair: two UTF-16 units

describe('the GSM-7 alphabet', () => {
  it('has the 127 printable basic characters and 10 extension characters', () => {
    expect(Array.from(GSM_BASIC)).toHaveLength(127);
    expect(new Set(GSM_BASIC).size).toBe(127);
    expect(Array.from(GSM_EXTENSION)).toEqual(['\f', '^', '{', '}', '\\', '[', '~', ']', '|', '\u20ac']);
  });

  it.each([...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà'])(
    '%j costs one septet',
    (ch) => {
      expect(gsmSeptets(ch)).toBe(1);
    },
  );

  it.each([...'^{}\\[~]|\u20ac\f'])('%j costs two septets', (ch) => {
    expect(gsmSeptets(ch)).toBe(2);
  });

  it.each([
    '\u00e7',
    '\u00e1',
    '`',
    '\t',
    '\u2019',
    '\u201c',
    '\u2014',
    '\u2026',
    '\u00a0',
    '\u0439',
    smile,
    '\u001b',
  ])('%j is not GSM-7', (ch) => {
    expect(isGsmChar(ch)).toBe(false);
  });
});

describe('GSM-7 segments', () => {
  it.each([
    [0, 0, 160],
    [1, 1, 160],
    [160, 1, 160],
    [161, 2, 153],
    [306, 2, 153],
    [307, 3, 153],
    [459, 3, 153],
    [460, 4, 153],
  ])('%i basic characters make %i segments of %i', (length, segments, perSegment) => {
    expect(analyzeSms(a(length))).toEqual({
      encoding: 'GSM-7',
      segments,
      units: length,
      perSegment,
      nonGsmChars: [],
    });
  });

  it('counts extension characters as two septets', () => {
    expect(analyzeSms('\u20ac'.repeat(80))).toMatchObject({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(analyzeSms('\u20ac'.repeat(81))).toMatchObject({ units: 162, segments: 2 });
    expect(analyzeSms(a(159) + '[')).toMatchObject({ units: 161, segments: 2 });
    expect(analyzeSms('{data}')).toMatchObject({ units: 8, segments: 1 });
  });

  it('never splits an escape pair across segments', () => {
    // 306 septets would fit in two segments of 153, but the euro cannot straddle the boundary.
    const text = a(152) + '\u20ac' + a(152);
    expect(analyzeSms(text)).toMatchObject({ encoding: 'GSM-7', units: 306, segments: 3 });
    expect(analyzeSms(a(151) + '\u20ac' + a(153))).toMatchObject({ units: 306, segments: 2 });
  });

  it('counts newlines and carriage returns as one septet each', () => {
    expect(analyzeSms('a\r\nb')).toMatchObject({ encoding: 'GSM-7', units: 4 });
  });
});

describe('UCS-2 segments', () => {
  it.each([
    [1, 1, 70],
    [70, 1, 70],
    [71, 2, 67],
    [134, 2, 67],
    [135, 3, 67],
  ])('%i characters make %i segments of %i', (length, segments, perSegment) => {
    expect(analyzeSms(cyr(length))).toEqual({
      encoding: 'UCS-2',
      segments,
      units: length,
      perSegment,
      nonGsmChars: ['\u0439'],
    });
  });

  it('switches the whole message to UCS-2 for one character', () => {
    expect(analyzeSms(a(100) + '\u2019')).toMatchObject({ encoding: 'UCS-2', units: 101, segments: 2 });
    expect(analyzeSms(a(100))).toMatchObject({ encoding: 'GSM-7', segments: 1 });
  });

  it('counts extension characters as one unit in UCS-2', () => {
    expect(analyzeSms('\u20ac'.repeat(69) + '\u0439')).toMatchObject({
      encoding: 'UCS-2',
      units: 70,
      segments: 1,
    });
  });

  it('counts an emoji as two units', () => {
    expect(analyzeSms(smile.repeat(35))).toMatchObject({ units: 70, segments: 1 });
    expect(analyzeSms(smile.repeat(36))).toMatchObject({ units: 72, segments: 2 });
  });

  it('never splits a surrogate pair across segments', () => {
    expect(analyzeSms(cyr(66) + smile + cyr(66))).toMatchObject({ units: 134, segments: 3 });
    expect(analyzeSms(cyr(65) + smile + cyr(67))).toMatchObject({ units: 134, segments: 2 });
  });

  it('lists each non-GSM character once, in order', () => {
    const text = `\u2019${smile}a\u2019\u00e1${smile}\u00e9`;
    expect(analyzeSms(text).nonGsmChars).toEqual(['\u2019', smile, '\u00e1']);
  });

  it('counts an emoji joined sequence by its code units', () => {
    const family = '\u{1F469}\u200D\u{1F469}\u200D\u{1F467}';
    expect(analyzeSms(family)).toMatchObject({ encoding: 'UCS-2', units: 8, segments: 1 });
  });
});

describe('checkSegmentLimit', () => {
  it('passes a message within the limit', () => {
    expect(checkSegmentLimit(a(306), 2)).toBeUndefined();
    expect(checkSegmentLimit('', 1)).toBeUndefined();
  });

  it('names the count, encoding and limit when over', () => {
    expect(checkSegmentLimit(a(307), 2)).toBe(
      'message needs 3 SMS segments (GSM-7, 307 characters, 153 per segment); the limit is 2',
    );
  });

  it('names the characters that forced UCS-2', () => {
    expect(checkSegmentLimit(a(70) + '\u2019', 1)).toBe(
      'message needs 2 SMS segments (UCS-2, 71 UTF-16 units, 67 per segment; UCS-2 because of "\u2019"); the limit is 1',
    );
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %d', (limit) => {
    expect(() => checkSegmentLimit('hi', limit)).toThrow(RangeError);
  });
});

describe('normalizeForGsm', () => {
  it.each([
    ['\u2018quoted\u2019', "'quoted'"],
    ['\u201cquoted\u201d', '"quoted"'],
    ['\u00abguillemets\u00bb', '"guillemets"'],
    ['a \u2013 b \u2014 c \u2212 d \u2011 e', 'a - b - c - d - e'],
    ['wait\u2026', 'wait...'],
    ['no\u00a0break\u202fthin\u2009space', 'no break thin space'],
    ['tab\there', 'tab here'],
    ['zero\u200bwidth\ufeff\u00ad', 'zerowidth'],
    ['`back` \u00b4tick\u00b4', "'back' 'tick'"],
    ['2 \u00d7 3 \u00f7 4', '2 x 3 / 4'],
    ['Brand\u2122 \u00a9 \u00ae', 'Brand(TM) (C) (R)'],
    ['\u2022 item', '- item'],
  ])('%j -> %j', (input, expected) => {
    expect(normalizeForGsm(input).text).toBe(expected);
  });

  it('reports what it replaced, with counts', () => {
    expect(normalizeForGsm('it\u2019s Mary\u2019s \u2014 ok\u2026').replaced).toEqual([
      { char: '\u2019', replacement: "'", count: 2 },
      { char: '\u2014', replacement: '-', count: 1 },
      { char: '\u2026', replacement: '...', count: 1 },
    ]);
  });

  it('turns a UCS-2 message into GSM-7 with fewer segments', () => {
    const text = `Hi Mary, it\u2019s a reminder \u2014 your appointment at North Clinic is on Dec 1 at 3:30 PM. Reply \u201cC\u201d to confirm\u2026 or call (555) 123-4567.`;
    const before = analyzeSms(text);
    const { text: normalized } = normalizeForGsm(text);
    const after = analyzeSms(normalized);
    expect(before).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    expect(after).toMatchObject({ encoding: 'GSM-7', segments: 1, nonGsmChars: [] });
  });

  it('leaves GSM-7 characters, emoji and joiners alone', () => {
    const text = `\u00e9\u00e8\u00c7 {x} \u20ac ${smile} \u{1F469}\u200D\u{1F467}`;
    expect(normalizeForGsm(text)).toEqual({ text, replaced: [] });
  });

  it('keeps accents unless asked to strip them', () => {
    expect(normalizeForGsm('Mar\u00eda').text).toBe('Mar\u00eda');
    const stripped = normalizeForGsm(
      'Mar\u00eda \u00c1ngel Fran\u00e7ois Jos\u00e9 Zo\u00eb Ren\u00e9e\u0301',
      { stripAccents: true },
    );
    expect(stripped.text).toBe('Maria Angel Fran\u00c7ois Jos\u00e9 Zoe Ren\u00e9e');
    expect(analyzeSms(stripped.text).encoding).toBe('GSM-7');
  });

  it('does not strip letters that have no GSM-7 base', () => {
    expect(normalizeForGsm('\u0439 \u4e2d', { stripAccents: true }).text).toBe('\u0439 \u4e2d');
  });
});

describe('properties', () => {
  const smsText = fc.string({
    unit: fc.constantFrom(
      'a',
      'Z',
      ' ',
      '\n',
      '\u20ac',
      '{',
      '\u00e9',
      '\u2019',
      '\u0439',
      smile,
      '\u00e1',
      '\u2026',
    ),
    maxLength: 400,
  });

  it('never needs fewer segments for a longer text', () => {
    fc.assert(
      fc.property(smsText, smsText, (head, tail) => {
        expect(analyzeSms(head + tail).segments).toBeGreaterThanOrEqual(analyzeSms(head).segments);
      }),
    );
  });

  it('fits every segment: segments x perSegment covers the units', () => {
    fc.assert(
      fc.property(smsText, (text) => {
        const info = analyzeSms(text);
        expect(info.segments * info.perSegment).toBeGreaterThanOrEqual(info.units);
        expect(info.encoding === 'GSM-7').toBe(info.nonGsmChars.length === 0);
      }),
    );
  });

  it('matches the simple formula for basic GSM-7 text', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2000 }), (n) => {
        const expected = n === 0 ? 0 : n <= 160 ? 1 : Math.ceil(n / 153);
        expect(analyzeSms(a(n)).segments).toBe(expected);
      }),
    );
  });

  it('is idempotent and only ever removes non-GSM characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const once = normalizeForGsm(text);
        expect(normalizeForGsm(once.text).text).toBe(once.text);
        for (const { char } of once.replaced) expect(isGsmChar(char)).toBe(false);
      }),
    );
  });
});
