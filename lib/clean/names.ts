// Cleaning rule for people's names: tidy the spacing and proper-case names that arrive in one case.
import { NAME_PARTICLES, properCaseName } from '../name-case';
import { BoundedMemo, detachedText } from '../bounded-memo';
import { fail, isBlank, ok, quote, type CleanResult } from './result';

export interface NameOptions {
  // A family name may start with a particle ("de la Cruz"); a given or full name starting with one is a
  // given name ("Van", "La Toya"), so only `family` lowercases a leading particle.
  part?: 'full' | 'given' | 'family';
  maxLength?: number;
}

const LETTER = /\p{L}/u;

export function cleanName(value: unknown, options: NameOptions = {}): CleanResult<string | null> {
  if (isBlank(value)) return ok(null);
  if (typeof value !== 'string') return fail(`${quote(value)} is not a name: expected text`);
  const maxLength = options.maxLength ?? 100;
  const text = value.replace(/\s+/g, ' ').trim();
  if (!LETTER.test(text)) return fail(`${quote(value)} is not a name: it has no letters`);
  if (text.length > maxLength)
    return fail(`${quote(value)} is not a name: it is longer than ${maxLength} characters`);
  const cased = properCase(text);
  if (options.part !== 'family' || cased === text) return ok(cased);
  return ok(lowercaseLeadingParticles(cased));
}

// Files repeat the same names (first names, providers) row after row, and proper-casing is pure, so each
// spelling is cased once.
const casedNames = new BoundedMemo<string, string>(20_000);

function properCase(text: string): string {
  const cased = casedNames.get(text);
  if (cased !== undefined) return cased;
  const key = detachedText(text);
  return casedNames.set(key, properCaseName(key));
}

// "De la Cruz" -> "de la Cruz"; the last word is the surname proper, so a lone "Di" keeps its capital.
function lowercaseLeadingParticles(name: string): string {
  const words = name.split(' ');
  for (let i = 0; i < words.length - 1; i += 1) {
    const lower = words[i]!.toLowerCase();
    if (!NAME_PARTICLES.has(lower)) break;
    words[i] = lower;
  }
  return words.join(' ');
}
