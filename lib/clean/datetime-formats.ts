// The date and time spellings a load map may name, each read into wall-clock fields without a zone.
import {
  excelSerialToWallClock,
  isTimeOnlyDate,
  wallClockOfUtc,
  MAX_EXCEL_SERIAL,
  type WallClock,
} from './excel-serial';
import { fail, ok, quote, type CleanResult } from './result';

export const DATE_FORMATS = [
  'YYYY-MM-DD',
  'YYYY/MM/DD',
  'YYYYMMDD',
  'MM/DD/YYYY',
  'MM-DD-YYYY',
  'M/D/YY',
  'DD/MM/YYYY',
  'DD.MM.YYYY',
  'DD-MM-YYYY',
  'D/M/YY',
] as const;
export const TIME_FORMATS = ['h:mm A', 'HH:mm', 'HH:mm:ss', 'HHmm'] as const;
/** ISO 8601 date-times, with or without an offset; `excel` is a serial number (days since 1899-12-30). */
export const SPECIAL_FORMATS = ['ISO', 'excel'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];
export type TimeFormat = (typeof TIME_FORMATS)[number];
export type DateTimeFormat = DateFormat | TimeFormat | (typeof SPECIAL_FORMATS)[number];
export const ALL_FORMATS: readonly DateTimeFormat[] = [...DATE_FORMATS, ...TIME_FORMATS, ...SPECIAL_FORMATS];

// US exports first; day-first formats only when a load map asks, since "03/04" cannot tell them apart.
// HHmm is left out: "1430" and an Excel serial look alike.
export const DEFAULT_FORMATS: readonly DateTimeFormat[] = [
  'ISO',
  'YYYY-MM-DD',
  'MM/DD/YYYY',
  'MM-DD-YYYY',
  'M/D/YY',
  'YYYYMMDD',
  'h:mm A',
  'HH:mm',
  'HH:mm:ss',
  'excel',
];

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}
export interface LocalTime {
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}
/** A reading of a value: a date, maybe a time, and an offset when the text fixed the instant itself. */
export interface Reading {
  date?: LocalDate;
  time?: LocalTime;
  offsetMinutes?: number;
}

type Order = 'ymd' | 'mdy' | 'dmy';
const DATE_SHAPES: Record<DateFormat, { pattern: RegExp; order: Order; twoDigitYear?: true }> = {
  'YYYY-MM-DD': { pattern: /^(\d{4})-(\d{1,2})-(\d{1,2})/, order: 'ymd' },
  'YYYY/MM/DD': { pattern: /^(\d{4})\/(\d{1,2})\/(\d{1,2})/, order: 'ymd' },
  YYYYMMDD: { pattern: /^(\d{4})(\d{2})(\d{2})(?![\d.])/, order: 'ymd' },
  'MM/DD/YYYY': { pattern: /^(\d{1,2})\/(\d{1,2})\/(\d{4})/, order: 'mdy' },
  'MM-DD-YYYY': { pattern: /^(\d{1,2})-(\d{1,2})-(\d{4})/, order: 'mdy' },
  'M/D/YY': { pattern: /^(\d{1,2})\/(\d{1,2})\/(\d{2})(?!\d)/, order: 'mdy', twoDigitYear: true },
  'DD/MM/YYYY': { pattern: /^(\d{1,2})\/(\d{1,2})\/(\d{4})/, order: 'dmy' },
  'DD.MM.YYYY': { pattern: /^(\d{1,2})\.(\d{1,2})\.(\d{4})/, order: 'dmy' },
  'DD-MM-YYYY': { pattern: /^(\d{1,2})-(\d{1,2})-(\d{4})/, order: 'dmy' },
  'D/M/YY': { pattern: /^(\d{1,2})\/(\d{1,2})\/(\d{2})(?!\d)/, order: 'dmy', twoDigitYear: true },
};
const TIME_SHAPES: Record<TimeFormat, RegExp> = {
  // "2:30 PM", "2:30PM", "2 pm", "2:30:15 p.m."
  'h:mm A': /^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*([ap])\.?\s*m?\.?$/i,
  'HH:mm': /^(\d{1,2}):(\d{2})$/,
  'HH:mm:ss': /^(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,3}))?$/,
  HHmm: /^(\d{2})(\d{2})$/,
};
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
// Serials written as text need five digits (1927-05-18 on): "1430" is far more likely a time than 1903.
const SERIAL = /^\d{5,7}(?:\.\d+)?$/;
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * Two-digit years pivot at 70: 00-69 are 2000-2069 and 70-99 are 1970-1999, so appointment dates land in
 * this century and birth years of older people in the last one.
 */
export function expandTwoDigitYear(year: number): number {
  return year < 70 ? 2000 + year : 1900 + year;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function checkDate(raw: unknown, date: LocalDate): CleanResult<LocalDate> {
  const { year, month, day } = date;
  if (month < 1 || month > 12) return fail(`${quote(raw)} is not a real date: there is no month ${month}`);
  const days = daysInMonth(year, month);
  if (day < 1 || day > days)
    return fail(`${quote(raw)} is not a real date: ${MONTHS[month - 1]} ${year} has ${days} days`);
  return ok(date);
}

function checkTime(raw: unknown, time: LocalTime): CleanResult<LocalTime> {
  if (time.hour > 23 || time.minute > 59 || time.second > 59)
    return fail(`${quote(raw)} is not a real time of day`);
  return ok(time);
}

const clock = (hour: number, minute = 0, second = 0, millisecond = 0): LocalTime => ({
  hour,
  minute,
  second,
  millisecond,
});
const fromWall = ({ year, month, day, hour, minute, second, millisecond }: WallClock): Reading => ({
  date: { year, month, day },
  time: clock(hour, minute, second, millisecond),
});

/** Reads a time of day in one of the given formats; Excel day fractions (0.5625) when `excel` is allowed. */
export function readTime(
  raw: unknown,
  text: string,
  formats: readonly DateTimeFormat[],
): CleanResult<LocalTime> | undefined {
  for (const format of formats) {
    if (format === 'excel') {
      if (!/^0?\.\d+$|^0$/.test(text)) continue;
      const wall = excelSerialToWallClock(Number(text));
      if (wall) return ok(clock(wall.hour, wall.minute, wall.second, wall.millisecond));
      continue;
    }
    if (!(format in TIME_SHAPES)) continue;
    const match = TIME_SHAPES[format as TimeFormat].exec(text);
    if (!match) continue;
    const [hour, minute, second, fraction] = [1, 2, 3, 4].map((i) => match[i]);
    if (format === 'h:mm A') {
      const h = Number(hour);
      if (h < 1 || h > 12) return fail(`${quote(raw)} is not a real time: a 12-hour clock has no hour ${h}`);
      const pm = /p/i.test(fraction ?? '');
      return checkTime(raw, clock((h % 12) + (pm ? 12 : 0), Number(minute ?? 0), Number(second ?? 0)));
    }
    const ms = fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0;
    return checkTime(raw, clock(Number(hour), Number(minute), Number(second ?? 0), ms));
  }
  return undefined;
}

function readIso(raw: unknown, text: string): CleanResult<Reading> | undefined {
  const match = ISO.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, frac, offset] = match;
  const date = checkDate(raw, { year: Number(y), month: Number(mo), day: Number(d) });
  if (!date.ok) return date;
  const reading: Reading = { date: date.value };
  if (h !== undefined) {
    const time = checkTime(
      raw,
      clock(Number(h), Number(mi), Number(s ?? 0), frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0),
    );
    if (!time.ok) return time;
    reading.time = time.value;
  }
  if (offset !== undefined) {
    if (offset.toUpperCase() === 'Z') reading.offsetMinutes = 0;
    else {
      const digits = offset.replace(':', '');
      const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || 0);
      reading.offsetMinutes = offset.startsWith('-') ? -minutes : minutes;
    }
  }
  return ok(reading);
}

function readDateText(
  raw: unknown,
  text: string,
  formats: readonly DateTimeFormat[],
): CleanResult<Reading> | undefined {
  let firstProblem: CleanResult<Reading> | undefined;
  for (const format of formats) {
    if (format === 'ISO') {
      const iso = readIso(raw, text);
      if (iso?.ok) return iso;
      firstProblem ??= iso;
      continue;
    }
    if (!(format in DATE_SHAPES)) continue;
    const shape = DATE_SHAPES[format as DateFormat];
    const match = shape.pattern.exec(text);
    if (!match) continue;
    const [a, b, c] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const fields =
      shape.order === 'ymd'
        ? { year: a, month: b, day: c }
        : shape.order === 'mdy'
          ? { year: c, month: a, day: b }
          : { year: c, month: b, day: a };
    if (shape.twoDigitYear) fields.year = expandTwoDigitYear(fields.year);
    const rest = text.slice(match[0].length);
    const date = checkDate(raw, fields);
    if (!date.ok) {
      firstProblem ??= date;
      continue;
    }
    if (rest === '') return ok({ date: date.value });
    const timeText = /^(?:\s+|T)(.+)$/.exec(rest)?.[1]?.trim();
    const time = timeText === undefined ? undefined : readTime(raw, timeText, formats);
    if (time?.ok) return ok({ date: date.value, time: time.value });
    firstProblem ??= time ?? undefined;
  }
  return firstProblem;
}

/**
 * Reads a cell as a date, a date and time, or a time alone, trying the formats in order; the first that
 * reads it as a real date wins. Dates from spreadsheets are taken by their wall-clock (UTC) fields.
 */
export function readDateTime(raw: unknown, formats: readonly DateTimeFormat[]): CleanResult<Reading> {
  if (raw instanceof Date) {
    if (Number.isNaN(raw.getTime())) return fail('the cell holds an invalid date');
    const wall = fromWall(wallClockOfUtc(raw));
    return ok(isTimeOnlyDate(raw) ? { time: wall.time } : wall);
  }
  const expected = `in the expected formats (${formats.join(', ')})`;
  if (typeof raw === 'number') {
    if (!formats.includes('excel')) return fail(`${quote(raw)} is a number, not a date ${expected}`);
    const wall = excelSerialToWallClock(raw);
    if (!wall)
      return fail(`${quote(raw)} is not a date: Excel serial numbers run from 0 to ${MAX_EXCEL_SERIAL}`);
    return ok(raw < 1 ? { time: fromWall(wall).time } : fromWall(wall));
  }
  if (typeof raw !== 'string')
    return fail(`${quote(raw)} is not a date: expected text, a number or a date cell`);
  const text = raw.trim();
  const dated = readDateText(raw, text, formats);
  if (dated?.ok) return dated;
  const time = readTime(raw, text, formats);
  if (time?.ok) return ok({ time: time.value });
  if (formats.includes('excel') && SERIAL.test(text)) return readDateTime(Number(text), formats);
  return dated ?? time ?? fail(`${quote(raw)} is not a date ${expected}`);
}
