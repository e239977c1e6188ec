// Moment-style date format strings ("MM-DD-YYYY hh:mm A") parsed once and applied to luxon DateTimes.

import { DateTime } from 'luxon';
import type { ArgumentIssue } from './types';

// Moment/dayjs tokens, which template authors already know; luxon's own tokens differ (yyyy, dd, a).
// prettier-ignore
const TOKENS = [
  'YYYY', 'YY', 'MMMM', 'MMM', 'MM', 'M', 'Do', 'DD', 'D', 'dddd', 'ddd',
  'HH', 'H', 'hh', 'h', 'mm', 'm', 'ss', 's', 'SSS', 'A', 'a', 'ZZ', 'Z', 'z',
] as const;
export type DateToken = (typeof TOKENS)[number];
const TOKEN_SET: ReadonlySet<string> = new Set(TOKENS);
const HOUR_TOKENS: ReadonlySet<string> = new Set(['HH', 'H', 'hh', 'h']);

export type DatePart =
  { kind: 'literal'; text: string } | { kind: 'token'; token: DateToken; offset: number };

export interface ParsedDateFormat {
  parts: DatePart[];
  issues: ArgumentIssue[];
}

const isLetter = (ch: string | undefined): boolean => ch !== undefined && /[A-Za-z]/.test(ch);

export function parseDateFormat(format: string): ParsedDateFormat {
  const parts: DatePart[] = [];
  const issues: ArgumentIssue[] = [];
  const literal = (text: string): void => {
    const last = parts[parts.length - 1];
    if (last?.kind === 'literal') last.text += text;
    else parts.push({ kind: 'literal', text });
  };
  if (format.trim() === '') {
    issues.push({
      severity: 'error',
      reason: 'empty date format',
      hint: 'e.g. "MM-DD-YYYY h:mm A"',
      offset: 0,
    });
    return { parts, issues };
  }
  let i = 0;
  while (i < format.length) {
    const ch = format[i]!;
    if (ch === '[') {
      const close = format.indexOf(']', i + 1);
      if (close === -1) {
        issues.push({
          severity: 'error',
          reason: 'unclosed "[" in date format',
          hint: 'close the literal text with "]"',
          offset: i,
        });
        break;
      }
      literal(format.slice(i + 1, close));
      i = close + 1;
    } else if (isLetter(ch)) {
      let end = i + 1;
      if (format.startsWith('Do', i)) end = i + 2;
      else while (format[end] === ch) end++;
      const run = format.slice(i, end);
      if (TOKEN_SET.has(run)) parts.push({ kind: 'token', token: run as DateToken, offset: i });
      else issues.push(unknownTokenIssue(format, i, run));
      i = end;
    } else {
      literal(ch);
      i++;
    }
  }
  if (!issues.some((issue) => issue.severity === 'error')) issues.push(...suspiciousTokens(format, parts));
  return { parts, issues };
}

function unknownTokenIssue(format: string, offset: number, run: string): ArgumentIssue {
  const reason = `unknown date format token "${run}"`;
  const swapped = [...run].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
  let start = offset;
  let end = offset + run.length;
  while (isLetter(format[start - 1])) start--;
  while (isLetter(format[end])) end++;
  const word = format.slice(start, end);
  const options = TOKENS.filter((t) => t[0]!.toLowerCase() === run[0]!.toLowerCase());
  let hint: string;
  if (TOKEN_SET.has(swapped)) hint = `did you mean "${swapped}"?`;
  // A lowercase word of several letters ("at", "on") is text the author meant literally.
  else if (/^[a-z]+$/.test(word) && new Set(word).size > 1)
    hint = `wrap literal text in square brackets, e.g. "[${word}]"`;
  else if (options.length > 0) hint = `use one of ${options.map((t) => `"${t}"`).join(', ')}`;
  else hint = `wrap literal text in square brackets, e.g. "[${run}]"`;
  return { severity: 'error', reason, hint, offset };
}

type TokenPart = Extract<DatePart, { kind: 'token' }>;

/** The token on the other side of a single separator literal (":" or "-"), and that separator. */
function neighbour(parts: DatePart[], index: number, step: 1 | -1): { token?: TokenPart; separator: string } {
  const next = parts[index + step];
  if (next?.kind === 'token') return { token: next, separator: '' };
  const beyond = parts[index + 2 * step];
  if (next?.kind === 'literal' && beyond?.kind === 'token') return { token: beyond, separator: next.text };
  return { separator: next?.kind === 'literal' ? next.text : '' };
}

/** Valid tokens that are almost certainly not what the author meant, such as "HH:MM:ss" (the month where minutes belong). */
function suspiciousTokens(format: string, parts: DatePart[]): ArgumentIssue[] {
  const issues: ArgumentIssue[] = [];
  const fixes: Array<{ offset: number; from: string; to: string }> = [];
  parts.forEach((part, index) => {
    if (part.kind !== 'token') return;
    const before = neighbour(parts, index, -1);
    const after = neighbour(parts, index, 1);
    const timeNeighbour =
      (before.separator === ':' &&
        before.token &&
        (HOUR_TOKENS.has(before.token.token) || /^m/.test(before.token.token))) ||
      (after.separator === ':' && after.token && /^(s|ss|mm?)$/.test(after.token.token));
    const dateNeighbour = [before, after].some(
      (side) => /^[-/.]$/.test(side.separator) && side.token && /^(D|DD|YY|YYYY|Do)$/.test(side.token.token),
    );
    if ((part.token === 'MM' || part.token === 'M') && timeNeighbour) {
      const to = part.token.toLowerCase();
      fixes.push({ offset: part.offset, from: part.token, to });
      issues.push({
        severity: 'warning',
        reason: `"${part.token}" in a time is the month; minutes are "${to}"`,
        offset: part.offset,
      });
    } else if ((part.token === 'mm' || part.token === 'm') && dateNeighbour && !timeNeighbour) {
      const to = part.token.toUpperCase();
      fixes.push({ offset: part.offset, from: part.token, to });
      issues.push({
        severity: 'warning',
        reason: `"${part.token}" in a date is minutes; the month is "${to}"`,
        offset: part.offset,
      });
    }
  });
  if (fixes.length > 0) {
    let corrected = format;
    for (const fix of [...fixes].reverse()) {
      corrected = corrected.slice(0, fix.offset) + fix.to + corrected.slice(fix.offset + fix.from.length);
    }
    for (const issue of issues) issue.hint = `did you mean "${corrected}"?`;
  }
  const twelveHour = parts.find(
    (p): p is TokenPart => p.kind === 'token' && (p.token === 'hh' || p.token === 'h'),
  );
  if (twelveHour && !parts.some((p) => p.kind === 'token' && (p.token === 'A' || p.token === 'a'))) {
    issues.push({
      severity: 'warning',
      reason: `12-hour "${twelveHour.token}" without "A" (AM/PM)`,
      hint: 'add " A", or use "HH" for a 24-hour clock',
      offset: twelveHour.offset,
    });
  }
  return issues;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

const FORMATTERS: Record<DateToken, (dt: DateTime) => string> = {
  YYYY: (dt) => pad(dt.year, 4),
  YY: (dt) => pad(dt.year % 100),
  MMMM: (dt) => dt.monthLong ?? '',
  MMM: (dt) => dt.monthShort ?? '',
  MM: (dt) => pad(dt.month),
  M: (dt) => String(dt.month),
  Do: (dt) => (dt.locale?.startsWith('en') === false ? `${dt.day}.` : ordinal(dt.day)),
  DD: (dt) => pad(dt.day),
  D: (dt) => String(dt.day),
  dddd: (dt) => dt.weekdayLong ?? '',
  ddd: (dt) => dt.weekdayShort ?? '',
  HH: (dt) => pad(dt.hour),
  H: (dt) => String(dt.hour),
  hh: (dt) => pad(dt.hour % 12 || 12),
  h: (dt) => String(dt.hour % 12 || 12),
  mm: (dt) => pad(dt.minute),
  m: (dt) => String(dt.minute),
  ss: (dt) => pad(dt.second),
  s: (dt) => String(dt.second),
  SSS: (dt) => pad(dt.millisecond, 3),
  A: (dt) => (dt.hour < 12 ? 'AM' : 'PM'),
  a: (dt) => (dt.hour < 12 ? 'am' : 'pm'),
  Z: (dt) => dt.toFormat('ZZ'),
  ZZ: (dt) => dt.toFormat('ZZZ'),
  z: (dt) => dt.offsetNameShort ?? dt.toFormat('ZZ'),
};

export function formatDate(dt: DateTime, parts: readonly DatePart[]): string {
  return parts.map((part) => (part.kind === 'literal' ? part.text : FORMATTERS[part.token](dt))).join('');
}

/**
 * Reads an instant from a Date, epoch milliseconds or a string and puts it in `zone`. A string with an
 * offset ("...Z", "+02:00") is an instant; one without is read as wall-clock time in `zone`, which is
 * what a local appointment time in an export means.
 */
export function toZonedDateTime(value: unknown, zone: string, locale: string): DateTime | undefined {
  let dt: DateTime | undefined;
  if (value instanceof Date) dt = DateTime.fromJSDate(value, { zone });
  else if (DateTime.isDateTime(value)) dt = value.setZone(zone);
  else if (typeof value === 'number' && Number.isFinite(value)) dt = DateTime.fromMillis(value, { zone });
  else if (typeof value === 'string') {
    const text = value.trim();
    dt = DateTime.fromISO(text, { zone });
    if (!dt.isValid) dt = DateTime.fromSQL(text, { zone });
  }
  return dt?.isValid ? dt.setLocale(locale) : undefined;
}
