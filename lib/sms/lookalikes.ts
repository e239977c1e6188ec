// Replaces characters that look like GSM-7 ones (smart quotes, dashes, odd spaces) so a text stays GSM-7.

import { isGsmChar } from './gsm';

// Word processors and phones insert these silently; one curly apostrophe would halve the segment size.
const LOOKALIKES: ReadonlyMap<string, string> = new Map([
  ...[...'\u2018\u2019\u201A\u201B\u2032\u00B4\u0060\u2039\u203A'].map((c) => [c, "'"] as const),
  ...[...'\u201C\u201D\u201E\u201F\u2033\u00AB\u00BB'].map((c) => [c, '"'] as const),
  ...[...'\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2022'].map((c) => [c, '-'] as const),
  ...[...'\u00A0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u202F\u205F\u3000\t'].map(
    (c) => [c, ' '] as const,
  ),
  // Invisible: dropping them changes nothing a reader sees. ZWJ stays, it holds emoji sequences together.
  ...[...'\u200B\u2060\uFEFF\u00AD'].map((c) => [c, ''] as const),
  ['\u2026', '...'],
  ['\u02C6', '^'],
  ['\u02DC', '~'],
  ['\u00D7', 'x'],
  ['\u00F7', '/'],
  ['\u2044', '/'],
  ['\u2122', '(TM)'],
  ['\u00A9', '(C)'],
  ['\u00AE', '(R)'],
]);

export interface GsmReplacement {
  char: string;
  replacement: string;
  count: number;
}

export interface NormalizeOptions {
  /**
   * Also turn accented letters outside GSM-7 into their base letter ("á" -> "a"). Off by default:
   * it changes how names are spelt, which a company has to agree to.
   */
  stripAccents?: boolean;
}

function accentFree(char: string): string | undefined {
  if (char === 'ç') return 'Ç'; // GSM-7 has only the capital; carriers send ç as Ç.
  const base = char.normalize('NFD').replace(/\p{M}/gu, '');
  return base !== char && [...base].every(isGsmChar) ? base : undefined;
}

/** Returns the text with look-alikes replaced and what was replaced; GSM-7 characters are never changed. */
export function normalizeForGsm(
  text: string,
  options: NormalizeOptions = {},
): { text: string; replaced: GsmReplacement[] } {
  const replaced = new Map<string, GsmReplacement>();
  let out = '';
  for (const char of text) {
    let replacement = isGsmChar(char) ? undefined : LOOKALIKES.get(char);
    if (replacement === undefined && options.stripAccents && !isGsmChar(char)) {
      replacement = /^\p{M}$/u.test(char) ? '' : accentFree(char);
    }
    if (replacement === undefined) {
      out += char;
      continue;
    }
    out += replacement;
    const entry = replaced.get(char) ?? { char, replacement, count: 0 };
    entry.count++;
    replaced.set(char, entry);
  }
  return { text: out, replaced: [...replaced.values()] };
}
