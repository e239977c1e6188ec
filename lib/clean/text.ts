// Cleaning rule for free text: trim, collapse runs of whitespace, optionally cap the length.
import { fail, isBlank, ok, quote, type CleanResult } from './result';

export function cleanText(value: unknown, options: { maxLength?: number } = {}): CleanResult<string | null> {
  if (isBlank(value)) return ok(null);
  const text = (value instanceof Date ? value.toISOString() : String(value)).replace(/\s+/g, ' ').trim();
  if (options.maxLength !== undefined && text.length > options.maxLength) {
    return fail(`${quote(value)} is longer than ${options.maxLength} characters`);
  }
  return ok(text);
}
