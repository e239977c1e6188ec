// Cleaning rules for dates and times: read a cell in a company's or location's time zone, return a UTC instant.
import { IANAZone } from 'luxon';
import { BoundedMemo } from '../bounded-memo';
import {
  DEFAULT_FORMATS,
  readDateTime,
  readTime,
  TIME_FORMATS,
  type DateTimeFormat,
  type LocalDate,
  type LocalTime,
  type Reading,
} from './datetime-formats';
import { fail, isBlank, ok, quote, type CleanResult } from './result';

export interface DateTimeOptions {
  /** IANA zone the wall-clock values were written in, e.g. America/Chicago. */
  timezone: string;
  /** Formats tried in order (see datetime-formats.ts); by default US spellings, ISO and Excel serials. */
  formats?: readonly DateTimeFormat[];
}

const MS_PER_DAY = 86_400_000;

// luxon builds an Intl.DateTimeFormat per check (~80 µs); a file names the same few zones on every row.
const zoneValidity = new Map<string, boolean>();

export function isValidTimezone(timezone: string): boolean {
  let valid = zoneValidity.get(timezone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(timezone);
    if (zoneValidity.size < 1000) zoneValidity.set(timezone, valid);
  }
  return valid;
}

/**
 * The instant a wall-clock time names in a zone. Around daylight-saving changes:
 * - a time that does not exist (clocks jumped from 2:00 to 3:00) moves forward by the jump, so 2:30
 *   reads as 3:30 daylight time, the same instant 2:30 standard time would have been;
 * - a time that happens twice (clocks fell back from 2:00 to 1:00) takes the first, daylight, 1:30.
 * These are RFC 5545's and Temporal's "compatible" rules; luxon alone would pick the second 1:30.
 */
export function wallClockToInstant(date: LocalDate, time: LocalTime, timezone: string): number {
  // Each zone lookup costs a formatToParts call (~10 µs); files repeat the same few hundred appointment
  // slots, so answers are remembered per zone and wall-clock time (bounded, cleared when full). Keys are
  // numbers: string keys built per row would keep a rope of pieces each, megabytes over a file.
  const wall = wallClockMs(date, time);
  let zoneInstants = instants.get(timezone);
  if (!zoneInstants) instants.set(timezone, (zoneInstants = new BoundedMemo(50_000)));
  return zoneInstants.get(wall) ?? zoneInstants.set(wall, computeInstant(wall, timezone));
}

const instants = new Map<string, BoundedMemo<number, number>>();

/** The wall-clock time as if it were UTC: the key instants are remembered under, and the start of the zone search. */
function wallClockMs(date: LocalDate, time: LocalTime): number {
  return Date.UTC(date.year, date.month - 1, date.day, time.hour, time.minute, time.second, time.millisecond);
}

function computeInstant(wall: number, timezone: string): number {
  const zone = IANAZone.create(timezone);
  // Zones change offset at most once within a day either side, so these two offsets cover every case.
  const offsetBefore = zone.offset(wall - MS_PER_DAY);
  const offsetAfter = zone.offset(wall + MS_PER_DAY);
  const consistent = [offsetBefore, offsetAfter]
    .map((offset) => ({ offset, instant: wall - offset * 60_000 }))
    .filter(({ offset, instant }) => zone.offset(instant) === offset)
    .map(({ instant }) => instant);
  if (consistent.length === 0) return wall - offsetBefore * 60_000;
  return Math.min(...consistent);
}

function timezoneProblem(timezone: string): CleanResult<never> | undefined {
  return isValidTimezone(timezone)
    ? undefined
    : fail(`${quote(timezone)} is not an IANA time zone (such as America/Chicago)`);
}

function instantOf(
  reading: Reading & { date: LocalDate },
  time: LocalTime | undefined,
  timezone: string,
): string {
  const clock = time ?? { hour: 0, minute: 0, second: 0, millisecond: 0 };
  if (reading.offsetMinutes !== undefined) {
    const { year, month, day } = reading.date;
    const utc = Date.UTC(year, month - 1, day, clock.hour, clock.minute, clock.second, clock.millisecond);
    return new Date(utc - reading.offsetMinutes * 60_000).toISOString();
  }
  return new Date(wallClockToInstant(reading.date, clock, timezone)).toISOString();
}

/**
 * A date or date-time cell as a UTC ISO instant ("2026-03-15T19:30:00.000Z"). A date without a time is
 * midnight in the zone; text with an explicit offset ("...T14:30:00-05:00") keeps its own instant.
 */
export function parseDateTime(value: unknown, options: DateTimeOptions): CleanResult<string | null> {
  if (isBlank(value)) return ok(null);
  const badZone = timezoneProblem(options.timezone);
  if (badZone) return badZone;
  const reading = readDateTime(value, options.formats ?? DEFAULT_FORMATS);
  if (!reading.ok) return reading;
  const { date } = reading.value;
  if (!date) return fail(`${quote(value)} is a time without a date`);
  return ok(instantOf({ ...reading.value, date }, reading.value.time, options.timezone));
}

/**
 * An appointment split over a date column and a time column, as one UTC ISO instant. The time column
 * wins over any time in the date column (Excel dates often carry a meaningless 00:00); with the time
 * column blank this is parseDateTime of the date column.
 */
export function combineDateTime(
  dateValue: unknown,
  timeValue: unknown,
  options: DateTimeOptions,
): CleanResult<string | null> {
  if (isBlank(timeValue)) return parseDateTime(dateValue, options);
  if (isBlank(dateValue)) return fail(`the time ${quote(timeValue)} has no date to go with it`);
  const badZone = timezoneProblem(options.timezone);
  if (badZone) return badZone;
  const formats = options.formats ?? DEFAULT_FORMATS;
  const dateReading = readDateTime(dateValue, formats);
  if (!dateReading.ok) return dateReading;
  const { date } = dateReading.value;
  if (!date) return fail(`${quote(dateValue)} is a time, not a date`);
  const time = readTimeOfDay(timeValue, formats);
  if (!time.ok) return time;
  return ok(instantOf({ ...dateReading.value, date }, time.value, options.timezone));
}

// Time cells arrive as text ("2:30 PM"), as day fractions (0.5625) or as Dates on 1899-12-30.
function readTimeOfDay(value: unknown, formats: readonly DateTimeFormat[]): CleanResult<LocalTime> {
  if (typeof value === 'string') {
    const text = value.trim();
    const time = readTime(value, text, formats) ?? readTime(value, text, ['excel']);
    if (time) return time;
  }
  if (value instanceof Date || (typeof value === 'number' && value >= 0 && value < 1)) {
    const reading = readDateTime(value, ['excel']);
    if (reading.ok && reading.value.time) return ok(reading.value.time);
  }
  return fail(
    `${quote(value)} is not a time of day in the expected formats (${formats.filter((f) => (TIME_FORMATS as readonly string[]).includes(f)).join(', ')})`,
  );
}

// Module-level, not made per call: tsx names every function it creates, a cost paid on every row.
function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** A time of day with no date or zone ("2:30 PM", "14:30", 0.6041666 from Excel), as HH:mm:ss. */
export function parseTimeOfDay(
  value: unknown,
  options: { formats?: readonly DateTimeFormat[] } = {},
): CleanResult<string | null> {
  if (isBlank(value)) return ok(null);
  const time = readTimeOfDay(value, options.formats ?? DEFAULT_FORMATS);
  if (!time.ok) return time;
  return ok(`${pad(time.value.hour)}:${pad(time.value.minute)}:${pad(time.value.second)}`);
}

/** A date with no time or zone (a birth date), as YYYY-MM-DD. */
export function parseLocalDate(
  value: unknown,
  options: { formats?: readonly DateTimeFormat[] } = {},
): CleanResult<string | null> {
  if (isBlank(value)) return ok(null);
  const reading = readDateTime(value, options.formats ?? DEFAULT_FORMATS);
  if (!reading.ok) return reading;
  const { date } = reading.value;
  if (!date) return fail(`${quote(value)} is a time without a date`);
  return ok(`${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`);
}
