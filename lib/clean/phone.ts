// Cleaning rule for phone numbers: messy spellings in, E.164 out, validated by libphonenumber-js (max metadata).
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { parsePlainNanp } from './phone-nanp';
import { fail, isBlank, ok, quote, type CleanResult } from './result';

export interface PhoneOptions {
  /** ISO 3166 country for numbers written without a +country code; default US. */
  defaultCountry?: string;
}

// "4.155552671E9": Excel's scientific display, pasted or saved into a CSV.
const EXCEL_SCIENTIFIC = /^\+?(\d)(?:\.(\d+))?e\+?(\d{1,2})$/i;
// "4155552671.0": a number column that went through a float on its way out (pandas, some BI tools).
const FLOAT_INTEGER = /^(\+?\d{7,15})\.0+$/;

export function cleanPhone(value: unknown, options: PhoneOptions = {}): CleanResult<string | null> {
  if (isBlank(value)) return ok(null);
  const country = (options.defaultCountry ?? 'US').toUpperCase();
  if (!isSupportedCountry(country))
    return fail(`${quote(country)} is not a country libphonenumber knows (use an ISO code such as US)`);
  const text = phoneText(value);
  if (typeof text !== 'string') return text;
  const e164 = parsePlainNanp(text, country) ?? parseWithLibrary(text, country);
  if (e164) return ok(e164);
  return fail(
    text.startsWith('+') || text.startsWith('00')
      ? `${quote(value)} is not a valid phone number`
      : `${quote(value)} is not a valid phone number for country ${country}`,
  );
}

function phoneText(value: unknown): string | { ok: false; reason: string } {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value > 0) return String(value);
    return fail(`${quote(value)} is not a phone number: a number cell must hold whole digits`);
  }
  if (typeof value !== 'string')
    return fail(`${quote(value)} is not a phone number: expected text or digits`);
  const text = value.trim();
  const scientific = EXCEL_SCIENTIFIC.exec(text);
  if (scientific) return expandScientific(value, scientific);
  return FLOAT_INTEGER.exec(text)?.[1] ?? text;
}

// Only when every digit survived: "4.15555E9" would become 4155550000, somebody else's phone.
function expandScientific(
  value: string,
  [, lead = '', fraction = '', exponent = '0']: RegExpExecArray,
): string | { ok: false; reason: string } {
  const digits = lead + fraction;
  const length = Number(exponent) + 1;
  if (digits.length > length) return fail(`${quote(value)} is not a phone number: it has a fractional part`);
  if (digits.length < length) {
    return fail(
      `${quote(value)} is not a phone number: Excel rounded it to scientific notation and its last digits are lost; re-export the column as text`,
    );
  }
  return digits;
}

// No cache: with the fast path taking plain spellings, bench/phone.ts measured a 10k-entry LRU here as
// slower than parsing again in every mix tried (repeats adjacent or far apart).
function parseWithLibrary(text: string, country: CountryCode): string | false {
  const parsed = parsePhoneNumberFromString(text, country);
  return parsed?.isValid() ? parsed.number : false;
}
