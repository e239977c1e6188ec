// A fast path for plainly written North American numbers, built from libphonenumber-js's own metadata.
//
// libphonenumber-js spends ~10 µs per number; nearly every number in a US export is a 10-digit NANP
// number in one of a few spellings. This module repeats libphonenumber-js's validity decision for those
// spellings (pick the NANP country by leading digits or number type, then require a known number type)
// with regular expressions compiled once. test/unit/clean-phone.test.ts proves it equal to
// parsePhoneNumberFromString + isValid() with fast-check; anything else goes to libphonenumber-js.
import { Metadata } from 'libphonenumber-js/max';

// Optional +1 / 1, then NPA (bracketed or not), NXX and the line number, with single separators.
// The NPA must start with 2-9: no NANP area code starts with 0 or 1, and "011..." is the US
// international prefix (0116903000 is +690 3000), which only libphonenumber-js should interpret.
const PLAIN_NANP = /^(\+?1[ .-]?)?(?:\(([2-9]\d{2})\)|([2-9]\d{2}))[ .-]?(\d{3})[ .-]?(\d{4})$/;
const NUMBER_TYPES = [
  'FIXED_LINE',
  'MOBILE',
  'PREMIUM_RATE',
  'TOLL_FREE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
];

// The parts of libphonenumber-js's Metadata this module reads; its published types do not declare them.
interface NumberTypeLike {
  pattern(): string;
  possibleLengths(): number[] | undefined;
}
interface MetadataLike {
  selectNumberingPlan(country: string): void;
  getCountryCodesForCallingCode(callingCode: string): string[] | undefined;
  nationalNumberPattern(): string;
  leadingDigits(): string | undefined;
  type(type: string): NumberTypeLike | undefined;
}

interface CountryPlan {
  country: string;
  leadingDigits: RegExp | undefined;
  nationalNumber: RegExp;
  types: RegExp[];
}

const whole = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`);

function loadPlans(): CountryPlan[] {
  const metadata = new Metadata() as unknown as MetadataLike;
  return (metadata.getCountryCodesForCallingCode('1') ?? []).map((country) => {
    metadata.selectNumberingPlan(country);
    const leading = metadata.leadingDigits();
    const types = NUMBER_TYPES.flatMap((name) => {
      const type = metadata.type(name);
      const pattern = type?.pattern();
      const lengths = type?.possibleLengths();
      // Every number this path sees has ten digits, so a type that cannot have ten never matches.
      if (!type || !pattern || (lengths && !lengths.includes(10))) return [];
      return [whole(pattern)];
    });
    return {
      country,
      leadingDigits: leading ? new RegExp(`^(?:${leading})`) : undefined,
      nationalNumber: whole(metadata.nationalNumberPattern()),
      types,
    };
  });
}

let plans: CountryPlan[] | undefined;
let nanpCountries: ReadonlySet<string> | undefined;

function countryPlans(): CountryPlan[] {
  plans ??= loadPlans();
  return plans;
}

/** The countries that share calling code +1 (US, CA, PR, the Caribbean...). */
export function isNanpCountry(country: string): boolean {
  nanpCountries ??= new Set(countryPlans().map((plan) => plan.country));
  return nanpCountries.has(country);
}

function hasKnownType(plan: CountryPlan, nationalNumber: string): boolean {
  return plan.nationalNumber.test(nationalNumber) && plan.types.some((type) => type.test(nationalNumber));
}

/** libphonenumber-js's validity for a ten-digit NANP national number, without parsing. */
export function isValidNanpNumber(nationalNumber: string): boolean {
  const all = countryPlans();
  for (const plan of all) {
    // The first country whose leading digits or number types claim the number owns it, as in
    // libphonenumber-js's getCountryByNationalNumber; validity is then judged by that country alone.
    if (plan.leadingDigits) {
      if (plan.leadingDigits.test(nationalNumber)) return hasKnownType(plan, nationalNumber);
    } else if (hasKnownType(plan, nationalNumber)) {
      return true;
    }
  }
  return false;
}

/**
 * The E.164 number, `false` for a plainly written NANP number that is not valid, or `undefined` when
 * the text is not in a plain NANP spelling (or the default country is outside NANP and the text has
 * no +1), so the caller must ask libphonenumber-js.
 */
export function parsePlainNanp(text: string, defaultCountry: string): string | false | undefined {
  const match = PLAIN_NANP.exec(text);
  if (!match) return undefined;
  const prefix = match[1];
  if (!prefix?.startsWith('+') && !isNanpCountry(defaultCountry)) return undefined;
  const nationalNumber = `${match[2] ?? match[3]}${match[4]}${match[5]}`;
  return isValidNanpNumber(nationalNumber) ? `+1${nationalNumber}` : false;
}
