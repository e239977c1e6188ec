// Reads an appointment's date (and time column) in the row's time zone as a UTC instant, and its status.
import { wallClockToInstant, type CleanResult, type RuleContext } from '../clean';
import { BoundedMemo } from '../bounded-memo';
import type { CellValue } from '../parse';
import type { CompiledMap } from '../load-maps/compile';

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_TIME = /^(\d{2}):(\d{2}):(\d{2})$/;

/**
 * `instant` maps hand the date, or the [date, time] pair, to the date field's datetime rule; `wall` maps
 * clean the date to YYYY-MM-DD and the time to HH:mm:ss with their own rules, joined here in the zone.
 */
export function readAppointmentInstant(
  compiled: CompiledMap,
  dateValue: CellValue,
  time: { raw: CellValue; cleaned: string | null },
  context: RuleContext & { timezone: string },
): CleanResult<string | null> {
  const dateField = compiled.byField.appointment_date!;
  const hasTime = time.raw !== null && !(typeof time.raw === 'string' && time.raw.trim() === '');
  if (compiled.appointmentReading === 'instant') {
    return dateField.clean(hasTime ? [dateValue, time.raw] : dateValue, context);
  }
  const date = dateField.clean(dateValue, context);
  if (!date.ok || date.value === null) return date;
  const day = LOCAL_DATE.exec(date.value);
  if (!day)
    return {
      ok: false,
      reason: `the appointment date's rules gave ${JSON.stringify(date.value)}, not a YYYY-MM-DD date`,
    };
  const clock = time.cleaned === null ? undefined : LOCAL_TIME.exec(time.cleaned);
  if (time.cleaned !== null && !clock) {
    return {
      ok: false,
      reason: `the appointment time's rules gave ${JSON.stringify(time.cleaned)}, not an HH:mm:ss time`,
    };
  }
  const instant = wallClockToInstant(
    { year: Number(day[1]), month: Number(day[2]), day: Number(day[3]) },
    {
      hour: Number(clock?.[1] ?? 0),
      minute: Number(clock?.[2] ?? 0),
      second: Number(clock?.[3] ?? 0),
      millisecond: 0,
    },
    context.timezone,
  );
  return { ok: true, value: isoText(instant) };
}

// A file repeats the same few hundred appointment slots, and formatting an instant cost more than
// half of reading its date and time (1.4 µs a row in a profile); the texts are remembered like the
// instants they come from (lib/clean/datetime.ts).
const isoTexts = new BoundedMemo<number, string>(50_000);

function isoText(instant: number): string {
  return isoTexts.get(instant) ?? isoTexts.set(instant, new Date(instant).toISOString());
}

export type AppointmentStatus =
  'scheduled' | 'confirmed' | 'cancelled' | 'reschedule_requested' | 'completed';

// EHR exports spell statuses every way ("Canceled", "CX", "Pt cancelled", "Confirmed by SMS"); what
// planning needs is whether the appointment still happens, so anything unrecognised is scheduled.
const STATUS_PATTERNS: [RegExp, AppointmentStatus][] = [
  [/cancel|^cx$|^canc?$|deleted|void/i, 'cancelled'],
  [/resched/i, 'reschedule_requested'],
  [/confirm/i, 'confirmed'],
  [/complete|checked ?out|^done$|^seen$/i, 'completed'],
];

export function normalizeAppointmentStatus(value: string | null): AppointmentStatus {
  if (value === null) return 'scheduled';
  return STATUS_PATTERNS.find(([pattern]) => pattern.test(value.trim()))?.[1] ?? 'scheduled';
}
