// Makes a log object safe to write: personal data removed at any depth, errors reduced to what names them.

/** Keys whose values are personal data (or may hold it) wherever they appear, compared in lower case. */
const PERSONAL_KEYS = new Set([
  'phone',
  'phone_e164',
  'phonenumber',
  'to',
  'from',
  'to_address',
  'from_address',
  'address',
  'email',
  'emailaddress',
  'first_name',
  'last_name',
  'middle_name',
  'full_name',
  'firstname',
  'lastname',
  'middlename',
  'fullname',
  'raw_value',
  'rawvalue',
  // a Postgres error's detail and context quote the row (Key (...)=(...), COPY ..., column data: ...)
  'detail',
  'where',
  'parameters',
  'password',
  'authtoken',
  'secretaccesskey',
  'token',
  'secret',
  'authorization',
  'cookie',
]);

/** Keys that hold a row, a message body or its parts when they hold text or objects; a number there is a count. */
const ROW_KEYS = new Set(['body', 'raw', 'raw_row', 'values', 'row', 'rows', 'data']);

export const REDACTED = '[redacted]';

function isPersonal(key: string, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  const name = key.toLowerCase();
  if (PERSONAL_KEYS.has(name)) return true;
  return ROW_KEYS.has(name) && typeof value !== 'number' && typeof value !== 'boolean';
}
const MAX_DEPTH = 8;

// what an error message may quote of a person: an email address, a phone number (E.164 or written
// the North American way); applied to messages, which name things, never to ids or counts
const EMAIL = /[^\s"'<>(),;:]+@[^\s"'<>(),;:]+\.[A-Za-z]{2,}/g;
const PHONE = /\+\d[\d\s().-]{6,18}\d|\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}\b|\b\d{10,11}\b/g;

/** The text with every email address and phone number in it replaced. */
export function maskContactDetails(text: string): string {
  return text.replace(EMAIL, '[email]').replace(PHONE, '[phone]');
}

/** A Postgres error (from the postgres driver): its SQLSTATE code and the names it carries. */
function isDatabaseError(error: Error): error is Error & Record<string, unknown> {
  const e = error as Error & { code?: unknown; severity?: unknown };
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string';
}

/**
 * What a log keeps of an error. A database error becomes its code, constraint, table and column: its
 * message, detail and context may quote the row. Any other error keeps its type, code and status, and
 * its message and stack with email addresses and phone numbers masked (a vendor's "The 'To' number
 * +1... is not valid"), and its cause, made safe the same way.
 */
export function safeError(error: Error, seen = new WeakSet<object>(), depth = 0): Record<string, unknown> {
  seen.add(error);
  const e = error as Error & Record<string, unknown>;
  if (isDatabaseError(error)) {
    return {
      type: 'DatabaseError',
      code: e.code,
      constraint: e.constraint_name,
      table: e.table_name,
      column: e.column_name,
      routine: e.routine,
    };
  }
  const out: Record<string, unknown> = { type: error.name || error.constructor?.name || 'Error' };
  for (const key of ['code', 'type', 'status', 'httpStatus', 'kind', 'nonRetryable'] as const) {
    const value = e[key];
    if (value !== undefined && (typeof value !== 'object' || value === null))
      out[key === 'type' ? 'failureType' : key] = value;
  }
  out.message = maskContactDetails(String(error.message ?? ''));
  if (typeof error.stack === 'string') {
    // the stack's first line repeats the message; the frames name only code
    out.stack = error.stack
      .split('\n')
      .filter((line) => /^\s+at /.test(line))
      .join('\n');
  }
  if (error.cause !== undefined && depth < MAX_DEPTH) out.cause = scrub(error.cause, seen, depth + 1);
  return out;
}

/** The value with personal keys redacted and errors made safe, at any depth (cycles cut). */
export function scrub(value: unknown, seen = new WeakSet<object>(), depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (value instanceof Error) return safeError(value, seen, depth);
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (value instanceof Date) return value;
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => scrub(item, seen, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isPersonal(key, item) ? REDACTED : scrub(item, seen, depth + 1);
  }
  return out;
}
