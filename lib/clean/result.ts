// The result every cleaning rule returns: a cleaned value, or a reason a person can act on.

export type CleanResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

// Quotes a raw value for a reason sentence, cut short so one huge cell cannot bloat a reject report.
export function quote(value: unknown): string {
  const text = value instanceof Date ? value.toISOString() : String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

// Blank cells are not errors for a rule; whether a field is required is decided by the caller.
export function isBlank(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}
