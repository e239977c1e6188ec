// Phone numbers written the way the recipient's country writes them.

import { getCountryCallingCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * National format for numbers in the home country ("(555) 123-4567" for US), international otherwise
 * ("+44 20 7946 0958"), so a foreign number is never shown without the code needed to dial it.
 * Returns undefined when the text is not a phone number at all.
 */
export function formatPhoneNumber(text: string, homeCountry: string): string | undefined {
  const country = isSupportedCountry(homeCountry) ? homeCountry : 'US';
  const number = parsePhoneNumberFromString(text, country);
  if (!number) return undefined;
  return number.countryCallingCode === getCountryCallingCode(country)
    ? number.formatNational()
    : number.formatInternational();
}
