// Proper-casing of people's and places' names that arrive ALL CAPS or all lower case from exports: shared by
// the name cleaning rule (lib/clean) and the template functions (lib/template).

// Lowercase inside a name when the input gave no casing to go by ("MARIA DE LA CRUZ" -> "Maria de la Cruz").
// Never the first word ("La Toya", "Van", and the start of a sentence) nor the last; single letters are
// left out because in US exports "JOHN E SMITH" is a middle initial far more often than a conjunction.
export const NAME_PARTICLES: ReadonlySet<string> = new Set([
  'de',
  'del',
  'della',
  'la',
  'le',
  'van',
  'von',
  'der',
  'den',
  'da',
  'das',
  'di',
  'do',
  'dos',
  'du',
]);
const GENERATIONAL = new Map([
  ['ii', 'II'],
  ['iii', 'III'],
  ['iv', 'IV'],
  ['jr', 'Jr'],
  ['jr.', 'Jr.'],
  ['sr', 'Sr'],
  ['sr.', 'Sr.'],
]);
// Credentials only after a comma ("SMITH, MD"), where they cannot be a particle such as Portuguese "do".
const CREDENTIALS = new Map(
  [
    'MD',
    'DO',
    'DDS',
    'DMD',
    'DPM',
    'DC',
    'OD',
    'NP',
    'PA',
    'PA-C',
    'RN',
    'LPN',
    'APRN',
    'FNP',
    'CNM',
    'PhD',
    'PsyD',
    'LCSW',
    'DNP',
  ].map((c) => [c.toLowerCase(), c]),
);

/** True when the text has both upper- and lower-case letters, i.e. someone already chose its casing. */
export function hasMixedCase(text: string): boolean {
  let upper = false;
  let lower = false;
  for (const ch of text) {
    const up = ch.toUpperCase();
    const low = ch.toLowerCase();
    if (up === low) continue;
    if (ch === up) upper = true;
    else lower = true;
    if (upper && lower) return true;
  }
  return false;
}

function capitalize(word: string): string {
  const [first = '', ...rest] = Array.from(word);
  return first.toUpperCase() + rest.join('');
}

/** One hyphen-free piece: "o'brien" -> "O'Brien", "mcdonald" -> "McDonald". */
function casePiece(piece: string): string {
  const apostrophe = piece.search(/['’]/);
  // Only a one-letter prefix (O', D', L') marks a name prefix; "jo'anne" keeps its lowercase tail.
  if (apostrophe === 1 && piece.length > 2) {
    return capitalize(piece.slice(0, 2)) + capitalize(piece.slice(2));
  }
  if (piece.startsWith('mc') && piece.length > 3) return 'Mc' + capitalize(piece.slice(2));
  return capitalize(piece);
}

/**
 * Title-cases a name given in a single case; a name that already mixes cases ("McDonald", "DeShawn",
 * "van der Berg") is returned as given, because its owner or the company's staff chose that casing.
 */
export function properCaseName(input: string): string {
  if (hasMixedCase(input)) return input;
  const words = input.toLowerCase().split(/(\s+)/);
  const wordIndexes = words.map((w, i) => (/\S/.test(w) ? i : -1)).filter((i) => i >= 0);
  const lastWord = wordIndexes[wordIndexes.length - 1];
  let afterComma = false;
  return words
    .map((word, index) => {
      if (!/\S/.test(word)) return word;
      const bare = word.replace(/,$/, '');
      const comma = bare.length < word.length ? ',' : '';
      let cased: string;
      if (afterComma && CREDENTIALS.has(bare)) cased = CREDENTIALS.get(bare)!;
      else if (index !== wordIndexes[0] && GENERATIONAL.has(bare)) cased = GENERATIONAL.get(bare)!;
      else if (NAME_PARTICLES.has(bare) && index !== wordIndexes[0] && index !== lastWord) cased = bare;
      else cased = bare.split('-').map(casePiece).join('-');
      if (comma || word.startsWith(',')) afterComma = true;
      return cased + comma;
    })
    .join('');
}

/** Capitalises every word and lowercases the rest, for ordinary text rather than names. */
export function titleCase(input: string): string {
  return input
    .toLowerCase()
    .split(/(\s+)/)
    .map((word) => (/\S/.test(word) ? capitalize(word) : word))
    .join('');
}
