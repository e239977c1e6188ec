// Quiet hours in the recipient's local time: whether a message may go now, else the next opening (or expiry).
import { DateTime } from 'luxon';
import { BoundedMemo } from '../bounded-memo';
import { stateForZip } from '../clean/zip-prefix';
import { AREA_CODE_TIMEZONES, timezoneForState } from '../clean/us-timezones';
import {
  clockMinutes,
  type QuietHoursPolicy,
  type QuietWindow,
  type ReminderSettings,
} from '../../schemas/reminder-settings';

export type Channel = 'sms' | 'voice' | 'email';

export interface Recipient {
  /** the contact's own zone (from its ZIP or state at load time), when known */
  timezone?: string | null;
  state?: string | null;
  zip?: string | null;
  phone?: string | null;
}

export interface RecipientZone {
  zone: string;
  source: 'contact' | 'state' | 'zip' | 'phone' | 'company';
}

/**
 * Screening asks about the same few zones and clock times for thousands of messages, and luxon's
 * zone arithmetic costs a fraction of a millisecond each time, on the worker's one event loop: the
 * answers are kept (bounded; a stale one is never wrong, as they depend on nothing else).
 */
const CACHED = 4096;
function remember<T>(cache: BoundedMemo<string, T>, key: string, compute: () => T): T {
  return cache.get(key) ?? cache.set(key, compute());
}

const zones = new BoundedMemo<string, boolean>(CACHED);
const validZone = (zone: string | null | undefined): zone is string =>
  !!zone && remember(zones, zone, () => DateTime.local().setZone(zone).isValid);

const areaCodeOf = (phone: string | null | undefined) =>
  phone ? /^\+1(\d{3})\d{7}$/.exec(phone)?.[1] : undefined;

/** The contact's zone, else its state's (or its ZIP's state's), else its phone's area code's, else the company's. */
export function recipientZone(r: Recipient, companyTimezone: string): RecipientZone {
  if (validZone(r.timezone)) return { zone: r.timezone, source: 'contact' };
  const byState = r.state ? timezoneForState(r.state) : undefined;
  if (validZone(byState)) return { zone: byState, source: 'state' };
  const zipState = r.zip ? stateForZip(r.zip) : undefined;
  const byZip = zipState ? timezoneForState(zipState) : undefined;
  if (validZone(byZip)) return { zone: byZip, source: 'zip' };
  const code = areaCodeOf(r.phone);
  const byPhone = code ? AREA_CODE_TIMEZONES.get(code)?.timezone : undefined;
  if (validZone(byPhone)) return { zone: byPhone, source: 'phone' };
  return { zone: companyTimezone, source: 'company' };
}

/**
 * The states whose rules apply: where the person lives (state, or ZIP) and where their phone number
 * is from. State laws such as Florida's presume the area code's state, so both count.
 */
export function recipientStates(r: Recipient): string[] {
  const states = new Set<string>();
  if (r.state) states.add(r.state.toUpperCase());
  else if (r.zip) {
    const s = stateForZip(r.zip);
    if (s) states.add(s);
  }
  const code = areaCodeOf(r.phone);
  const byPhone = code ? AREA_CODE_TIMEZONES.get(code)?.state : undefined;
  if (byPhone) states.add(byPhone);
  return [...states];
}

/** The rules for one company: the deployment's, narrowed (never widened) by the company's own settings. */
export interface QuietHoursRules {
  windows: QuietWindow[];
  states: Record<string, QuietWindow[]>;
  noSundayVoice: boolean;
  channels: Channel[];
}

export function companyRules(
  policy: QuietHoursPolicy,
  company: ReminderSettings['quietHours'],
): QuietHoursRules {
  const states: Record<string, QuietWindow[]> = {};
  for (const [state, w] of Object.entries(policy.states)) (states[state] ??= []).push(w);
  for (const [state, w] of Object.entries(company.states ?? {})) (states[state] ??= []).push(w);
  return {
    windows: company.window ? [policy.window, company.window] : [policy.window],
    states,
    noSundayVoice: policy.noSundayVoice || (company.noSundayVoice ?? false),
    // a company may add channels to hold back, not remove the deployment's
    channels: [...new Set([...policy.channels, ...(company.channels ?? [])])],
  };
}

export interface EffectiveWindow {
  start: number;
  end: number;
  /** which rules narrowed it, for the reason an operator reads */
  because: string[];
}

/** The intersection of every window that applies; empty (start >= end) when they do not overlap. */
export function effectiveWindow(rules: QuietHoursRules, states: readonly string[]): EffectiveWindow {
  let start = 0;
  let end = 24 * 60;
  const because: string[] = [];
  const apply = (w: QuietWindow, label?: string) => {
    const s = clockMinutes(w.start);
    const e = clockMinutes(w.end);
    if (s > start || e < end) {
      start = Math.max(start, s);
      end = Math.min(end, e);
      if (label) because.push(label);
    }
  };
  for (const w of rules.windows) apply(w);
  for (const state of states) for (const w of rules.states[state] ?? []) apply(w, state);
  return { start, end, because };
}

export type QuietHoursDecision =
  /** closesAt: when the allowed hours it is sent in end (unset when quiet hours do not hold this channel) */
  | { kind: 'send'; closesAt?: Date }
  | { kind: 'defer'; until: Date; reason: string }
  | { kind: 'expire'; reason: string };

export interface QuietHoursInput {
  /** when the message would go out (the run's clock) */
  at: Date;
  channel: Channel;
  recipient: Recipient;
  companyTimezone: string;
  rules: QuietHoursRules;
  /** the appointment: an opening at or after it is useless */
  expiresAt?: Date | null;
}

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** Where the day's window ends; its wall time, so a DST change that day does not move it. */
function windowEnd(local: DateTime, window: EffectiveWindow): DateTime {
  const day = local.startOf('day');
  return window.end >= 24 * 60
    ? day.plus({ days: 1 })
    : day.set({ hour: Math.floor(window.end / 60), minute: window.end % 60 });
}

/** The first allowed local time at or after `local`, within a week; undefined when no day has one. */
function nextOpening(local: DateTime, window: EffectiveWindow, skipSunday: boolean): DateTime | undefined {
  const minute = local.hour * 60 + local.minute;
  for (let d = 0; d <= 7; d++) {
    const day = local.startOf('day').plus({ days: d });
    if (skipSunday && day.weekday === 7) continue;
    // luxon resolves a wall time inside a DST gap forward, so an opening is never skipped
    const opening = day.set({ hour: Math.floor(window.start / 60), minute: window.start % 60 });
    if (d === 0 && minute >= window.start && minute < window.end) return local;
    if (opening > local) return opening;
  }
  return undefined;
}

/** What quiet hours make of one moment in one zone under one window: open now (until when), or the next opening. */
type LocalClock =
  { open: true; closesAt: number } | { open: false; now: string; opening?: { at: number; label: string } };

const clocks = new BoundedMemo<string, LocalClock>(CACHED);
function localClock(at: Date, zone: string, window: EffectiveWindow, skipSunday: boolean): LocalClock {
  return remember(clocks, `${at.getTime()}|${zone}|${window.start}|${window.end}|${skipSunday}`, () => {
    const local = DateTime.fromJSDate(at, { zone });
    const opening = nextOpening(local, window, skipSunday);
    if (opening && +opening === +local) return { open: true, closesAt: windowEnd(local, window).toMillis() };
    return {
      open: false,
      now: `${local.toFormat('ccc HH:mm')} in ${zone}`,
      opening: opening && { at: opening.toMillis(), label: opening.toFormat('ccc HH:mm') },
    };
  });
}

export function quietHoursDecision(input: QuietHoursInput): QuietHoursDecision {
  const { rules, channel } = input;
  if (!rules.channels.includes(channel)) return { kind: 'send' };
  const { zone } = recipientZone(input.recipient, input.companyTimezone);
  const window = effectiveWindow(rules, recipientStates(input.recipient));
  const skipSunday = channel === 'voice' && rules.noSundayVoice;
  const rule = `${hhmm(window.start)}-${hhmm(window.end)}${window.because.length ? ` (${window.because.join(', ')})` : ''}${skipSunday ? ', no calls on Sundays' : ''}`;
  if (window.start >= window.end) {
    return { kind: 'expire', reason: `quiet hours: the rules that apply leave no allowed time (${rule})` };
  }
  const clock = localClock(input.at, zone, window, skipSunday);
  if (clock.open) return { kind: 'send', closesAt: new Date(clock.closesAt) };
  const { now, opening } = clock;
  if (!opening)
    return { kind: 'expire', reason: `quiet hours: no allowed time within a week of ${now} (${rule})` };
  const until = new Date(opening.at);
  if (input.expiresAt && until >= input.expiresAt) {
    return {
      kind: 'expire',
      reason: `quiet hours: ${now} is outside ${rule}, and the next allowed time (${opening.label}) is not before the appointment`,
    };
  }
  return {
    kind: 'defer',
    until,
    reason: `quiet hours: ${now} is outside ${rule}; deferred to ${opening.label}`,
  };
}
