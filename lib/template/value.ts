// How context values become text, and what counts as missing.

import { DateTime } from 'luxon';
import { FunctionInputError } from './types';

/** Absent: the key is not there, or holds null. An empty string is present (and strict renders accept it). */
export function isMissing(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

/** What `default` replaces: absent, or text with nothing visible in it. */
export function isBlank(value: unknown): boolean {
  return isMissing(value) || (typeof value === 'string' && value.trim() === '');
}

/** Scalars only: an object or array in a message is a load-map mistake, never something to print. */
export function valueToText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  if (DateTime.isDateTime(value)) return value.toISO() ?? '';
  if (isMissing(value)) return '';
  throw new FunctionInputError(Array.isArray(value) ? 'is a list, not a value' : 'is an object, not a value');
}
