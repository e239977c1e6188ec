import { describe, expect, it } from 'vitest';
import {
  combineDateTime,
  parseDateTime,
  parseLocalDate,
  parseTimeOfDay,
  wallClockToInstant,
} from '../../lib/clean/datetime';
import { expandTwoDigitYear } from '../../lib/clean/datetime-formats';
import { excelSerialToDate, excelSerialToWallClock } from '../../lib/clean/excel-serial';

const chicago = { timezone: 'America/Chicago' };
const newYork = { timezone: 'America/New_York' };
const instant = (result: ReturnType<typeof parseDateTime>) => {
  if (!result.ok) throw new Error(result.reason);
  return result.value;
};

describe('parseDateTime', () => {
  it.each([
    ['03/15/2026', '2026-03-15T05:00:00.000Z'],
    ['3/5/2026', '2026-03-05T06:00:00.000Z'],
    ['3/15/26', '2026-03-15T05:00:00.000Z'],
    ['2026-03-15', '2026-03-15T05:00:00.000Z'],
    ['03-15-2026', '2026-03-15T05:00:00.000Z'],
    ['20260315', '2026-03-15T05:00:00.000Z'],
    ['03/15/2026 2:30 PM', '2026-03-15T19:30:00.000Z'],
    ['03/15/2026 2:30PM', '2026-03-15T19:30:00.000Z'],
    ['03/15/2026 14:30', '2026-03-15T19:30:00.000Z'],
    ['3/15/26 14:30:15', '2026-03-15T19:30:15.000Z'],
    ['2026-03-15 14:30', '2026-03-15T19:30:00.000Z'],
    ['2026-03-15T14:30', '2026-03-15T19:30:00.000Z'],
    ['2026-03-15T14:30:00.250', '2026-03-15T19:30:00.250Z'],
    ['2026-03-15T14:30:00Z', '2026-03-15T14:30:00.000Z'],
    ['2026-03-15T14:30:00-07:00', '2026-03-15T21:30:00.000Z'],
    ['2026-03-15T14:30:00+0530', '2026-03-15T09:00:00.000Z'],
    ['2026-01-15 12:00 am', '2026-01-15T06:00:00.000Z'],
    ['2026-01-15 12:00 p.m.', '2026-01-15T18:00:00.000Z'],
  ])('reads %j in America/Chicago as %s', (input, expected) => {
    expect(instant(parseDateTime(input, chicago))).toBe(expected);
  });

  it('reads Excel serial numbers as dates and date-times in the zone', () => {
    expect(instant(parseDateTime(45678, chicago))).toBe('2025-01-21T06:00:00.000Z');
    expect(instant(parseDateTime(45678.5625, chicago))).toBe('2025-01-21T19:30:00.000Z');
    expect(instant(parseDateTime('45678', chicago))).toBe('2025-01-21T06:00:00.000Z');
    expect(instant(parseDateTime('45678.5625', chicago))).toBe('2025-01-21T19:30:00.000Z');
    // 14:30 is 0.604166... in a float; it must not read as 14:29:59.999
    expect(instant(parseDateTime(46096 + 14.5 / 24, chicago))).toBe('2026-03-15T19:30:00.000Z');
  });

  it('reads Dates from spreadsheets by their wall-clock fields', () => {
    expect(instant(parseDateTime(new Date(Date.UTC(2026, 2, 15, 14, 30)), chicago))).toBe(
      '2026-03-15T19:30:00.000Z',
    );
    expect(instant(parseDateTime(new Date(Date.UTC(2026, 6, 4)), { timezone: 'America/Los_Angeles' }))).toBe(
      '2026-07-04T07:00:00.000Z',
    );
  });

  it('rejects impossible dates with a reason', () => {
    expect(parseDateTime('02/30/2026', chicago)).toEqual({
      ok: false,
      reason: '"02/30/2026" is not a real date: February 2026 has 28 days',
    });
    expect(parseDateTime('02/29/2028', chicago)).toMatchObject({ ok: true });
    expect(parseDateTime('13/01/2026', chicago)).toEqual({
      ok: false,
      reason: '"13/01/2026" is not a real date: there is no month 13',
    });
    expect(parseDateTime('2026-04-31', chicago)).toEqual({
      ok: false,
      reason: '"2026-04-31" is not a real date: April 2026 has 30 days',
    });
    expect(parseDateTime('03/15/2026 25:00', chicago)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not a real time'),
    });
    expect(parseDateTime('03/15/2026 13:00 PM', chicago)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('no hour 13'),
    });
    expect(parseDateTime('next tuesday', chicago)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not a date in the expected formats'),
    });
    expect(parseDateTime('2:30 PM', chicago)).toEqual({
      ok: false,
      reason: '"2:30 PM" is a time without a date',
    });
    expect(parseDateTime(true, chicago)).toMatchObject({ ok: false });
    expect(parseDateTime(new Date(Number.NaN), chicago)).toMatchObject({ ok: false });
  });

  it('rejects an unknown time zone', () => {
    expect(parseDateTime('2026-03-15', { timezone: 'America/Chicgo' })).toEqual({
      ok: false,
      reason: '"America/Chicgo" is not an IANA time zone (such as America/Chicago)',
    });
  });

  it('tries formats in order, so day-first files must say so', () => {
    expect(instant(parseDateTime('03/04/2026', { ...chicago, formats: ['DD/MM/YYYY'] }))).toBe(
      '2026-04-03T05:00:00.000Z',
    );
    expect(instant(parseDateTime('15.03.2026', { ...chicago, formats: ['DD.MM.YYYY'] }))).toBe(
      '2026-03-15T05:00:00.000Z',
    );
    expect(parseDateTime('2026-03-15', { ...chicago, formats: ['MM/DD/YYYY'] })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('(MM/DD/YYYY)'),
    });
    expect(parseDateTime(45678, { ...chicago, formats: ['MM/DD/YYYY'] })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('is a number'),
    });
  });

  it('passes blanks through as null', () => {
    expect(parseDateTime('', chicago)).toEqual({ ok: true, value: null });
  });
});

describe('two-digit years', () => {
  it('pivot at 70: 00-69 are 2000s, 70-99 are 1900s', () => {
    expect([0, 26, 69, 70, 99].map(expandTwoDigitYear)).toEqual([2000, 2026, 2069, 1970, 1999]);
    expect(parseLocalDate('7/4/76')).toEqual({ ok: true, value: '1976-07-04' });
    expect(parseLocalDate('7/4/69')).toEqual({ ok: true, value: '2069-07-04' });
  });
});

describe('daylight-saving changes', () => {
  it('moves a time in the spring-forward gap forward by the jump (2:30 -> 3:30 EDT)', () => {
    expect(instant(parseDateTime('2026-03-08 02:30', newYork))).toBe('2026-03-08T07:30:00.000Z');
    expect(instant(parseDateTime('2026-03-08 03:30', newYork))).toBe('2026-03-08T07:30:00.000Z');
    expect(instant(parseDateTime('2026-03-08 01:59', newYork))).toBe('2026-03-08T06:59:00.000Z');
  });

  it('takes the first of a repeated fall-back time (1:30 EDT, not EST)', () => {
    expect(instant(parseDateTime('2026-11-01 01:30', newYork))).toBe('2026-11-01T05:30:00.000Z');
    expect(instant(parseDateTime('2026-11-01 00:30', newYork))).toBe('2026-11-01T04:30:00.000Z');
    expect(instant(parseDateTime('2026-11-01 02:30', newYork))).toBe('2026-11-01T07:30:00.000Z');
  });

  it('works in zones without daylight saving and south of the equator', () => {
    expect(instant(parseDateTime('2026-03-08 02:30', { timezone: 'America/Phoenix' }))).toBe(
      '2026-03-08T09:30:00.000Z',
    );
    // Sydney springs forward on 2026-10-04 at 02:00 to 03:00
    expect(instant(parseDateTime('2026-10-04 02:30', { timezone: 'Australia/Sydney' }))).toBe(
      '2026-10-03T16:30:00.000Z',
    );
  });

  it('wallClockToInstant agrees with the plain offset away from changes', () => {
    const ms = wallClockToInstant(
      { year: 2026, month: 7, day: 1 },
      { hour: 9, minute: 0, second: 0, millisecond: 0 },
      'Pacific/Honolulu',
    );
    expect(new Date(ms).toISOString()).toBe('2026-07-01T19:00:00.000Z');
  });
});

describe('combineDateTime', () => {
  it.each([
    ['03/15/2026', '2:30 PM'],
    ['03/15/2026', '2:30PM'],
    ['03/15/2026', '14:30'],
    ['03/15/2026', '14:30:00'],
    ['2026-03-15', 0.6041666666666666],
    ['2026-03-15', '0.6041666666666666'],
    [46096, '2:30 pm'],
    [new Date(Date.UTC(2026, 2, 15)), new Date(Date.UTC(1899, 11, 30, 14, 30))],
    ['03/15/2026 00:00', '14:30'],
  ])('combines %j and %j', (date, time) => {
    expect(combineDateTime(date, time, chicago)).toEqual({ ok: true, value: '2026-03-15T19:30:00.000Z' });
  });

  it('falls back to the date column alone when the time is blank', () => {
    expect(combineDateTime('03/15/2026 2:30 PM', '', chicago)).toEqual({
      ok: true,
      value: '2026-03-15T19:30:00.000Z',
    });
    expect(combineDateTime('', '', chicago)).toEqual({ ok: true, value: null });
  });

  it('reads military times only when the load map names HHmm', () => {
    expect(combineDateTime('03/15/2026', '1430', { ...chicago, formats: ['MM/DD/YYYY', 'HHmm'] })).toEqual({
      ok: true,
      value: '2026-03-15T19:30:00.000Z',
    });
    expect(combineDateTime('03/15/2026', '1430', chicago)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('"1430" is not a time of day'),
    });
    expect(combineDateTime('03/15/2026', 1430, chicago)).toMatchObject({ ok: false });
  });

  it('explains what is wrong with either part', () => {
    expect(combineDateTime('', '2:30 PM', chicago)).toEqual({
      ok: false,
      reason: 'the time "2:30 PM" has no date to go with it',
    });
    expect(combineDateTime('02/30/2026', '2:30 PM', chicago)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('February 2026 has 28 days'),
    });
    expect(combineDateTime('03/15/2026', 'noon-ish', chicago)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('"noon-ish" is not a time of day'),
    });
    expect(combineDateTime('2:30 PM', '2:30 PM', chicago)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('is a time, not a date'),
    });
  });

  it('handles the DST gap in a combined value', () => {
    expect(combineDateTime('03/08/2026', '2:30 AM', newYork)).toEqual({
      ok: true,
      value: '2026-03-08T07:30:00.000Z',
    });
  });
});

describe('Excel serials', () => {
  it('maps serials to the calendar Excel shows, including its 1900 leap-year bug', () => {
    expect(excelSerialToWallClock(1)).toMatchObject({ year: 1900, month: 1, day: 1 });
    expect(excelSerialToWallClock(59)).toMatchObject({ year: 1900, month: 2, day: 28 });
    expect(excelSerialToWallClock(60)).toBeUndefined();
    expect(excelSerialToWallClock(61)).toMatchObject({ year: 1900, month: 3, day: 1 });
    expect(excelSerialToWallClock(45678)).toMatchObject({ year: 2025, month: 1, day: 21, hour: 0 });
    expect(excelSerialToWallClock(45678.5625)).toMatchObject({ hour: 13, minute: 30 });
    expect(excelSerialToWallClock(0, true)).toMatchObject({ year: 1904, month: 1, day: 1 });
    expect(excelSerialToWallClock(-1)).toBeUndefined();
    expect(excelSerialToWallClock(3_000_000)).toBeUndefined();
    expect(excelSerialToDate(45678.5)?.toISOString()).toBe('2025-01-21T12:00:00.000Z');
  });

  it('refuses serials written as short text, which are more likely times or codes', () => {
    expect(parseDateTime('1430', chicago)).toMatchObject({ ok: false });
    expect(parseLocalDate('45678')).toEqual({ ok: true, value: '2025-01-21' });
  });
});

describe('parseLocalDate', () => {
  it('returns the calendar date without any zone', () => {
    expect(parseLocalDate('1/2/1950')).toEqual({ ok: true, value: '1950-01-02' });
    expect(parseLocalDate(new Date(Date.UTC(1950, 0, 2)))).toEqual({ ok: true, value: '1950-01-02' });
    expect(parseLocalDate('2026-03-15T14:30:00Z')).toEqual({ ok: true, value: '2026-03-15' });
    expect(parseLocalDate('02/30/1950')).toMatchObject({ ok: false });
  });
});

describe('parseTimeOfDay', () => {
  it.each([
    ['2:30 PM', '14:30:00'],
    ['2:30PM', '14:30:00'],
    ['12:05 am', '00:05:00'],
    ['14:30', '14:30:00'],
    ['14:30:15', '14:30:15'],
    [0.6041666666666666, '14:30:00'],
    ['0.5', '12:00:00'],
    [new Date(Date.UTC(1899, 11, 30, 9, 15)), '09:15:00'],
  ])('reads %j as %s', (input, expected) => {
    expect(parseTimeOfDay(input)).toEqual({ ok: true, value: expected });
  });

  it('rejects what is not a time of day, and passes blanks through', () => {
    expect(parseTimeOfDay('25:00')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not a real time'),
    });
    expect(parseTimeOfDay('soon')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('"soon" is not a time of day'),
    });
    expect(parseTimeOfDay(1430)).toMatchObject({ ok: false });
    expect(parseTimeOfDay('1430', { formats: ['HHmm'] })).toEqual({ ok: true, value: '14:30:00' });
    expect(parseTimeOfDay(' ')).toEqual({ ok: true, value: null });
  });
});
