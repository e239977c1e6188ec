// What a column's sample values look like, read with herald's own cleaning rules: phones, emails, dates and their formats, ZIPs, states, names.
import { cleanEmail, cleanPhone, cleanState, cleanZip, isValidTimezone } from '../../clean';
import { isTimeOnlyDate } from '../../clean/excel-serial';
import {
  readDateTime,
  readTime,
  TIME_FORMATS,
  type DateFormat,
  type DateTimeFormat,
} from '../../clean/datetime-formats';
import type { CellValue } from '../../parse';

/** How many of the filled sample values read as each kind (0..1). */
export interface ContentShares {
  email: number;
  phone: number;
  zip: number;
  state: number;
  /** a calendar date, with or without a time of day */
  date: number;
  /** a date with a time of day in the same cell */
  dateTime: number;
  /** a time of day alone */
  time: number;
  name: number;
  id: number;
  status: number;
  languageCode: number;
  timezone: number;
}

export interface ColumnContent {
  /** non-blank values in the sample */
  filled: number;
  shares: ContentShares;
  /** the spellings the dates and times were written in, most used first (`excel` for spreadsheet cells) */
  formats: DateTimeFormat[];
  /** dates spread over years, or long past: birth dates, not appointments */
  pastDates: boolean;
}

// US spellings before day-first ones: "03/04/2027" is March 4th unless a value says otherwise (a 13th month).
const DATE_ORDER: readonly DateFormat[] = [
  'YYYY-MM-DD',
  'MM/DD/YYYY',
  'M/D/YY',
  'MM-DD-YYYY',
  'YYYY/MM/DD',
  'YYYYMMDD',
  'DD/MM/YYYY',
  'D/M/YY',
  'DD.MM.YYYY',
  'DD-MM-YYYY',
];
const TWINS: readonly [DateFormat, DateFormat][] = [
  ['DD/MM/YYYY', 'MM/DD/YYYY'],
  ['D/M/YY', 'M/D/YY'],
  ['DD-MM-YYYY', 'MM-DD-YYYY'],
];
const STATUSES = new Set([
  'scheduled',
  'confirmed',
  'cancelled',
  'canceled',
  'completed',
  'complete',
  'booked',
  'pending',
  'no show',
  'noshow',
  'no-show',
  'rescheduled',
  'checked in',
  'arrived',
  'tentative',
  'active',
  'programada',
  'programado',
  'confirmada',
  'confirmado',
  'cancelada',
  'cancelado',
  'pendiente',
  'completada',
]);
const LANGUAGE_CODES = new Set([
  'en',
  'es',
  'fr',
  'de',
  'it',
  'pt',
  'vi',
  'zh',
  'ko',
  'ja',
  'ru',
  'ar',
  'tl',
  'hi',
  'ur',
  'fa',
  'pl',
  'ht',
  'so',
  'am',
  'hmn',
  'km',
  'lo',
  'my',
  'ne',
  'uk',
  'he',
  'el',
  'tr',
  'nl',
]);
const NAME = /^\p{L}[\p{L}'’.\- ]*$/u;

const text = (v: CellValue): string => (v instanceof Date ? v.toISOString() : String(v)).trim();

/** The first date spelling (US first) that reads the value as a real date, and whether it had a time. */
function dateSpelling(value: string): { format: DateTimeFormat; time?: DateTimeFormat } | undefined {
  if (readDateTime(value, ['ISO']).ok && /^\d{4}-\d{2}-\d{2}/.test(value)) {
    const iso = readDateTime(value, ['ISO']);
    return iso.ok && iso.value.date
      ? { format: 'ISO', ...(iso.value.time ? { time: 'ISO' } : {}) }
      : undefined;
  }
  for (const format of DATE_ORDER) {
    const read = readDateTime(value, [format, ...TIME_FORMATS]);
    if (!read.ok || !read.value.date) continue;
    if (!read.value.time) return { format };
    const rest = value.replace(/^\S+\s*T?/, '').trim();
    return { format, time: TIME_FORMATS.find((t) => readTime(rest, rest, [t])?.ok) ?? 'HH:mm' };
  }
  return undefined;
}

export function describeContent(values: readonly CellValue[]): ColumnContent {
  const filled = values.filter((v) => v !== null && v !== undefined && text(v) !== '');
  const n = filled.length;
  const count: Record<keyof ContentShares, number> = {
    email: 0,
    phone: 0,
    zip: 0,
    state: 0,
    date: 0,
    dateTime: 0,
    time: 0,
    name: 0,
    id: 0,
    status: 0,
    languageCode: 0,
    timezone: 0,
  };
  const formatUses = new Map<DateTimeFormat, number>();
  const use = (f: DateTimeFormat) => formatUses.set(f, (formatUses.get(f) ?? 0) + 1);
  const years: number[] = [];
  let spreadsheetDates = false;
  for (const value of filled) {
    const t = text(value);
    if (value instanceof Date) {
      spreadsheetDates = true;
      if (isTimeOnlyDate(value)) count.time += 1;
      else {
        count.date += 1;
        years.push(value.getUTCFullYear());
        if (value.getUTCHours() || value.getUTCMinutes()) count.dateTime += 1;
      }
      continue;
    }
    if (cleanEmail(t).ok && t.includes('@')) count.email += 1;
    const digits = t.replace(/\D/g, '').length;
    const date = typeof value === 'string' ? dateSpelling(t) : undefined;
    if (!date && digits >= 10 && digits <= 11 && cleanPhone(value).ok) count.phone += 1;
    if (/^\d{4,5}(-\d{4})?$/.test(t) && cleanZip(value).ok) count.zip += 1;
    if (typeof value === 'string' && t.length <= 20 && cleanState(t).ok && /^[\p{L} .]+$/u.test(t))
      count.state += 1;
    if (date) {
      count.date += 1;
      use(date.format);
      if (date.time) {
        count.dateTime += 1;
        use(date.time);
      }
      const year = readDateTime(t, [date.format, ...TIME_FORMATS]);
      if (year.ok && year.value.date) years.push(year.value.date.year);
    } else if (typeof value === 'string') {
      const time = TIME_FORMATS.find((f) => readTime(t, t, [f])?.ok);
      if (time && !/^\d{4}$/.test(t)) {
        count.time += 1;
        use(time);
      }
    } else if (typeof value === 'number' && value > 0 && value < 1) {
      count.time += 1;
      spreadsheetDates = true;
    }
    if (NAME.test(t) && t.split(/\s+/).length <= 4 && !STATUSES.has(t.toLowerCase())) count.name += 1;
    if (/\d/.test(t) && !/\s/.test(t) && !date && !t.includes('@')) count.id += 1;
    if (STATUSES.has(t.toLowerCase())) count.status += 1;
    if (LANGUAGE_CODES.has(t.toLowerCase().split(/[-_]/)[0]!) && t.length <= 7) count.languageCode += 1;
    if (t.includes('/') && isValidTimezone(t)) count.timezone += 1;
  }
  const shares = Object.fromEntries(
    Object.entries(count).map(([k, c]) => [k, n ? c / n : 0]),
  ) as unknown as ContentShares;
  // a value only a day-first spelling reads (23/03) makes the file day-first: its month-first twin
  // would read the ambiguous ones (05/04) as the wrong month
  for (const [dayFirst, monthFirst] of TWINS) if (formatUses.has(dayFirst)) formatUses.delete(monthFirst);
  const formats = [...formatUses.entries()].sort((a, b) => b[1] - a[1]).map(([f]) => f);
  if (spreadsheetDates) formats.push('excel');
  years.sort((a, b) => a - b);
  const pastDates =
    years.length > 0 && (years.at(-1)! - years[0]! > 3 || years[Math.floor(years.length / 2)]! < 2000);
  return { filled: n, shares, formats, pastDates };
}
