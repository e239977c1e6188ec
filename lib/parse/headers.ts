// Header handling: names compared loosely ("First Name " = "first_name"), duplicates refused, columns matched.
import { ParseError } from './types';

/** Lower case, accents, spaces and punctuation removed: "First Name ", "first_name" and "FIRST-NAME" agree. */
export function normalizeHeader(header: string): string {
  return header
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

/**
 * Trims the headers and refuses a file whose headers repeat (exactly, after trimming): which of two
 * "Phone" columns is the phone cannot be guessed. Blank headers are allowed; their columns are ignored.
 */
export function checkHeaders(raw: readonly string[], rowNumber: number): string[] {
  const headers = raw.map((h) => h.trim());
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const header of headers) {
    if (header === '') continue;
    if (seen.has(header)) repeated.add(header);
    seen.add(header);
  }
  if (repeated.size > 0) {
    const list = [...repeated].map((h) => JSON.stringify(h)).join(', ');
    throw new ParseError(
      'duplicate-headers',
      `row ${rowNumber}: the header repeats ${list}; rename the columns so each name appears once`,
      rowNumber,
    );
  }
  if (seen.size === 0)
    throw new ParseError('no-header', `row ${rowNumber}: the header row has no column names`, rowNumber);
  return headers;
}

export interface ExpectedColumn {
  field: string;
  /** The column's header, or alternatives tried in order ("Cell Phone", then "Phone"). */
  column: string | readonly string[];
  required?: boolean;
}

export type ColumnMatch =
  | { ok: true; mapping: Record<string, string>; unmatched: string[] }
  | { ok: false; reason: string; missing: string[]; found: string[] };

/**
 * Finds each expected field's column among the headers found, comparing normalized names. Fields whose
 * column is absent are left out when optional; the result explains what is missing, and what the file
 * has, when a required one is absent or a name matches two columns.
 */
export function matchColumns(found: readonly string[], expected: readonly ExpectedColumn[]): ColumnMatch {
  const byNormal = new Map<string, string[]>();
  for (const header of found) {
    const key = normalizeHeader(header);
    if (key === '') continue;
    byNormal.set(key, [...(byNormal.get(key) ?? []), header]);
  }
  const mapping: Record<string, string> = {};
  const missing: string[] = [];
  const problems: string[] = [];
  for (const { field, column, required } of expected) {
    const names = typeof column === 'string' ? [column] : column;
    const hit = names
      .map((name) => byNormal.get(normalizeHeader(name)))
      .find((headers) => headers !== undefined);
    if (hit === undefined) {
      if (required) {
        missing.push(field);
        problems.push(`${field} needs a column named ${names.map((n) => JSON.stringify(n)).join(' or ')}`);
      }
    } else if (hit.length > 1) {
      problems.push(
        `${field}: columns ${hit.map((h) => JSON.stringify(h)).join(' and ')} both match; rename one`,
      );
    } else {
      mapping[field] = hit[0]!;
    }
  }
  const foundList = found
    .filter((h) => h !== '')
    .map((h) => JSON.stringify(h))
    .join(', ');
  if (problems.length > 0) {
    return {
      ok: false,
      reason: `${problems.join('; ')}. The file's columns are: ${foundList || '(none)'}`,
      missing,
      found: [...found],
    };
  }
  const used = new Set(Object.values(mapping));
  return { ok: true, mapping, unmatched: found.filter((h) => h !== '' && !used.has(h)) };
}
