import fc from 'fast-check';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { cleanPhone } from '../../lib/clean/phone';
import { isNanpCountry, parsePlainNanp } from '../../lib/clean/phone-nanp';

const e164 = (input: unknown, defaultCountry?: string) => {
  const result = cleanPhone(input, { defaultCountry });
  if (!result.ok) throw new Error(result.reason);
  return result.value;
};

// libphonenumber-js, the reference of truth: the E.164 number when valid, else false.
const reference = (text: string, country: string): string | false => {
  const parsed = parsePhoneNumberFromString(text, country as CountryCode);
  return parsed?.isValid() ? parsed.number : false;
};

describe('phone cleaning', () => {
  it.each([
    '(415) 555-2671',
    '415.555.2671',
    '415-555-2671',
    '4155552671',
    '+1 415 555 2671',
    '+1 (415) 555-2671',
    '1-415-555-2671',
    '1 415 555 2671',
    '14155552671',
    '+14155552671',
    ' 415 555 2671 ',
    '4155552671 ext 12',
    '415-555-2671 x12',
    '4.155552671E9',
    '4.155552671e+09',
    '4155552671.0',
    '(415)555-2671',
    '415/555-2671',
  ])('reads %j as +14155552671', (input) => {
    expect(e164(input)).toBe('+14155552671');
  });

  it('reads number cells from spreadsheets', () => {
    expect(e164(4155552671)).toBe('+14155552671');
    expect(e164(14155552671)).toBe('+14155552671');
  });

  it('reads international numbers and other default countries', () => {
    expect(e164('+44 20 7946 0958')).toBe('+442079460958');
    expect(e164('020 7946 0958', 'GB')).toBe('+442079460958');
    expect(e164('604 555 1234')).toBe('+16045551234');
    expect(e164('(416) 555-0199', 'CA')).toBe('+14165550199');
    expect(e164('787-555-1234')).toBe('+17875551234');
    expect(e164('030 901820', 'de')).toBe('+4930901820');
  });

  it.each([
    ['555-12', '"555-12" is not a valid phone number for country US'],
    ['(555) 123-4567', '"(555) 123-4567" is not a valid phone number for country US'],
    ['555.123.4567', '"555.123.4567" is not a valid phone number for country US'],
    ['1-555-123-4567', '"1-555-123-4567" is not a valid phone number for country US'],
    ['5551234567 ext 12', '"5551234567 ext 12" is not a valid phone number for country US'],
    ['+1 555 123 4567', '"+1 555 123 4567" is not a valid phone number'],
    ['(123) 456-7890', '"(123) 456-7890" is not a valid phone number for country US'],
    ['415-555-267', '"415-555-267" is not a valid phone number for country US'],
    ['call me', '"call me" is not a valid phone number for country US'],
    ['+44 20 1', '"+44 20 1" is not a valid phone number'],
  ])('rejects %j', (input, reason) => {
    expect(cleanPhone(input)).toEqual({ ok: false, reason });
  });

  it('refuses Excel-rounded numbers whose last digits are gone rather than text a stranger', () => {
    const result = cleanPhone('4.15555E9');
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('last digits are lost') });
    expect(cleanPhone('4.1555526711E9')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('fractional part'),
    });
    expect(cleanPhone(4155552671.5)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('whole digits'),
    });
  });

  it('passes blanks through as null and rejects unknown default countries', () => {
    expect(cleanPhone('  ')).toEqual({ ok: true, value: null });
    expect(cleanPhone('4155552671', { defaultCountry: 'XX' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('"XX"'),
    });
  });
});

describe('plain NANP fast path', () => {
  const knownAreaCodes = [
    '212',
    '415',
    '312',
    '713',
    '305',
    '808',
    '907',
    '604',
    '416',
    '514',
    '876',
    '868',
    '242',
    '246',
    '684',
    '671',
    '787',
    '939',
    '340',
    '670',
    '869',
    '800',
    '888',
    '877',
    '855',
    '900',
    '555',
    '123',
    '011',
    '911',
    '211',
    '456',
    '500',
    '533',
    '600',
    '700',
    '710',
    '880',
  ];
  const digits = (n: number) =>
    fc.array(fc.constantFrom(...'0123456789'), { minLength: n, maxLength: n }).map((d) => d.join(''));
  const areaCode = fc.oneof(fc.constantFrom(...knownAreaCodes), digits(3));
  const exchange = fc.oneof(
    fc.constantFrom('555', '200', '100', '011', '911', '958', '234', '737'),
    digits(3),
  );
  const separator = fc.constantFrom('', ' ', '.', '-');
  const prefix = fc.constantFrom('', '1', '1 ', '1-', '+1', '+1 ', '+1-', '+1.', '+', '11', '+44 ', '0');
  const bracketed = fc.boolean();
  const country = fc.constantFrom('US', 'CA', 'PR', 'JM', 'GB', 'DE', 'AG');
  const text = fc
    .tuple(prefix, bracketed, areaCode, separator, exchange, separator, digits(4))
    .map(([p, b, a, s1, x, s2, line]) => `${p}${b ? `(${a})` : a}${s1}${x}${s2}${line}`);

  it('agrees with libphonenumber-js on every plainly written number it accepts (property)', () => {
    fc.assert(
      fc.property(text, country, (input, defaultCountry) => {
        const fast = parsePlainNanp(input, defaultCountry);
        if (fast === undefined) return;
        expect(fast).toBe(reference(input, defaultCountry));
      }),
      { numRuns: 10_000 },
    );
  });

  it('agrees with libphonenumber-js on every area code, for several exchanges', () => {
    let checked = 0;
    for (let npa = 0; npa <= 999; npa += 1) {
      for (const nxx of ['200', '555', '234', '911', '100']) {
        const input = `${String(npa).padStart(3, '0')}${nxx}0123`;
        const fast = parsePlainNanp(input, 'US');
        if (fast === undefined) continue;
        checked += 1;
        expect([input, fast]).toEqual([input, reference(input, 'US')]);
      }
    }
    expect(checked).toBe(800 * 5);
  });

  it('cleanPhone as a whole agrees with libphonenumber-js (property)', () => {
    fc.assert(
      fc.property(text, country, (input, defaultCountry) => {
        const expected = reference(input.trim(), defaultCountry);
        const result = cleanPhone(input, { defaultCountry });
        expect(result.ok ? result.value : false).toBe(expected);
      }),
      { numRuns: 3_000 },
    );
  });

  it('leaves other spellings and non-NANP default countries to libphonenumber-js', () => {
    expect(parsePlainNanp('415 555 2671 ext 1', 'US')).toBeUndefined();
    expect(parsePlainNanp('415 555 2671', 'GB')).toBeUndefined();
    expect(parsePlainNanp('+1 415 555 2671', 'GB')).toBe('+14155552671');
    expect(parsePlainNanp('(415 555-2671', 'US')).toBeUndefined();
    expect(parsePlainNanp('0116903000', 'US')).toBeUndefined();
    expect(cleanPhone('011 44 20 7946 0958')).toEqual({ ok: true, value: '+442079460958' });
    expect(isNanpCountry('CA')).toBe(true);
    expect(isNanpCountry('GB')).toBe(false);
  });
});
