// Cleaning rules for US ZIP codes (restoring the zeros Excel drops) and state names (to USPS codes).
import { fail, isBlank, ok, quote, type CleanResult } from './result';
import { stateCodeOf, type StateCode } from './us-states';
import { stateForZip } from './zip-prefix';

export interface ZipOptions {
  /** Keep the +4 part ("02134-1234", the default) or drop it ("02134"). */
  plus4?: 'keep' | 'drop';
}

export interface StateOptions {
  /** Accept the military codes AA, AE and AP (default true). */
  military?: boolean;
}

// Excel reads 02134 as the number 2134, and 02134-1234 typed without its dash as 21341234.
const ZIP5 = /^(\d{3,5})$/;
const ZIP9 = /^(\d{3,5})[- ]?(\d{4})$/;
const ZIP9_DIGITS = /^\d{7,9}$/;

export function cleanZip(value: unknown, options: ZipOptions = {}): CleanResult<string | null> {
  if (isBlank(value)) return ok(null);
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      return fail(`${quote(value)} is not a ZIP code: expected 5 digits or ZIP+4`);
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim().replace(/\.0+$/, '');
  } else {
    return fail(`${quote(value)} is not a ZIP code: expected 5 digits or ZIP+4`);
  }
  let zip: string;
  let plus4: string | undefined;
  const five = ZIP5.exec(text);
  const nine = ZIP9_DIGITS.test(text) ? /^(\d{3,5})(\d{4})$/.exec(text) : ZIP9.exec(text);
  if (five) zip = five[1]!.padStart(5, '0');
  else if (nine) [zip, plus4] = [nine[1]!.padStart(5, '0'), nine[2]];
  else return fail(`${quote(value)} is not a ZIP code: expected 5 digits or ZIP+4`);
  if (!stateForZip(zip))
    return fail(`${quote(value)} is not a ZIP code: no US ZIP code starts with ${zip.slice(0, 3)}`);
  return ok(plus4 && options.plus4 !== 'drop' ? `${zip}-${plus4}` : zip);
}

export function cleanState(value: unknown, options: StateOptions = {}): CleanResult<StateCode | null> {
  if (isBlank(value)) return ok(null);
  if (typeof value !== 'string')
    return fail(`${quote(value)} is not a US state: expected a name or a two-letter code`);
  const code = stateCodeOf(value);
  if (!code) return fail(`${quote(value)} is not a US state or territory name or USPS code`);
  if (options.military === false && (code === 'AA' || code === 'AE' || code === 'AP')) {
    return fail(`${quote(value)} is a military mail code, not a state`);
  }
  return ok(code);
}
