// Excel's date serial numbers (days since 1899-12-30, fraction = time of day) read as wall-clock dates.

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const MS_PER_DAY = 86_400_000;
// Serial 25569 is 1970-01-01 in the 1900 system; the 1904 system (old Mac workbooks) counts 1462 days less.
const UNIX_EPOCH_SERIAL = 25_569;
const DATE_1904_OFFSET = 1_462;
/** 9999-12-31, the last day Excel can show. */
export const MAX_EXCEL_SERIAL = 2_958_465;

/**
 * The wall-clock date and time a serial shows in Excel, or undefined for serials Excel cannot show.
 * Excel believes 1900 was a leap year: serial 60 is the non-existent 1900-02-29 and serials below it
 * are one day later than the Unix arithmetic says, so both are corrected here.
 */
export function excelSerialToWallClock(serial: number, date1904 = false): WallClock | undefined {
  if (!Number.isFinite(serial) || serial < 0 || serial >= MAX_EXCEL_SERIAL + 1) return undefined;
  if (!date1904 && serial >= 60 && serial < 61) return undefined;
  const shifted = date1904 ? serial + DATE_1904_OFFSET : serial < 60 && serial >= 1 ? serial + 1 : serial;
  // Round to the millisecond: 14:30 is stored as 0.6041666666666666 and must not read as 14:29:59.999.
  const ms = Math.round((shifted - UNIX_EPOCH_SERIAL) * MS_PER_DAY);
  return wallClockOfUtc(new Date(ms));
}

/** A Date as the exceljs reader builds it: the cell's wall-clock time written as if it were UTC. */
export function excelSerialToDate(serial: number, date1904 = false): Date | undefined {
  const wall = excelSerialToWallClock(serial, date1904);
  if (!wall) return undefined;
  return new Date(
    Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, wall.millisecond),
  );
}

/** The UTC fields of a Date, which for spreadsheet Dates are the wall-clock fields the cell showed. */
export function wallClockOfUtc(date: Date): WallClock {
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
    millisecond: date.getUTCMilliseconds(),
  };
}

/** Time-only cells are serials below 1, which spreadsheet readers turn into Dates on 1899-12-30. */
export function isTimeOnlyDate(date: Date): boolean {
  return date.getUTCFullYear() === 1899 && date.getUTCMonth() === 11 && date.getUTCDate() === 30;
}
