// The zod schema of the reminder part of companies.settings (quiet hours, run schedule), with herald's defaults.
import { z } from 'zod';
import { channel } from './company-settings';

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Minutes since local midnight of an "HH:mm" clock time. */
export function clockMinutes(clock: string): number {
  const [h, m] = clock.split(':').map(Number);
  return h! * 60 + m!;
}

const clock = z.string().regex(CLOCK, 'must be HH:mm on a 24-hour clock, e.g. 08:00');

/** A daily window of allowed local times, start inclusive, end exclusive; it never crosses midnight. */
export const quietWindowSchema = z
  .strictObject({ start: clock, end: clock })
  .refine((w) => clockMinutes(w.start) < clockMinutes(w.end), {
    message: 'start must be before end (a window cannot cross midnight)',
  });
export type QuietWindow = z.infer<typeof quietWindowSchema>;

/** The federal TCPA calling window. */
export const DEFAULT_QUIET_WINDOW: QuietWindow = { start: '08:00', end: '21:00' };

/**
 * States whose own laws are stricter than the federal window (Florida's and Oklahoma's telephone
 * solicitation acts: 8 a.m. to 8 p.m.). Operators add more through QUIET_HOURS_STATES.
 */
export const DEFAULT_STATE_WINDOWS: Record<string, QuietWindow> = {
  FL: { start: '08:00', end: '20:00' },
  OK: { start: '08:00', end: '20:00' },
};

const stateCode = z.string().regex(/^[A-Z]{2}$/, 'a two-letter state code such as FL');

/** What a company may say about quiet hours; every rule that applies narrows the window, none widens it. */
export const companyQuietHoursSchema = z.strictObject({
  window: quietWindowSchema.optional(),
  states: z.record(stateCode, quietWindowSchema).optional(),
  /** no calls on Sundays (recipient-local) */
  noSundayVoice: z.boolean().optional(),
  /** the channels quiet hours hold back; email is not a call or a text, so it is not held by default */
  channels: z.array(channel).optional(),
});

export const reminderScheduleSchema = z
  .strictObject({
    /** a run every N minutes; null = none */
    everyMinutes: z.number().int().min(1).max(1440).nullable().default(15),
    /** runs at these company-local times every day, e.g. ["09:00"] */
    dailyAt: z.array(clock).max(24).default([]),
    /** how late a missed run (a server outage) may still start; later ones are skipped */
    catchupWindowMinutes: z.number().int().min(1).max(1440).default(10),
    /** the schedule exists but starts nothing (also settable with `herald reminders schedule --pause`) */
    paused: z.boolean().default(false),
  })
  .refine((s) => s.everyMinutes !== null || s.dailyAt.length > 0, {
    message: 'needs everyMinutes or dailyAt',
  });
export type ReminderSchedule = z.infer<typeof reminderScheduleSchema>;

export const reminderSettingsSchema = z.strictObject({
  quietHours: companyQuietHoursSchema.default({}),
  schedule: reminderScheduleSchema.default({
    everyMinutes: 15,
    dailyAt: [],
    catchupWindowMinutes: 10,
    paused: false,
  }),
});
export type ReminderSettings = z.infer<typeof reminderSettingsSchema>;

/** companies.settings is shared with other parts (reminderPlan...): only its `reminders` key is read here. */
export const companyReminderSettingsSchema = z.looseObject({
  reminders: reminderSettingsSchema.default(reminderSettingsSchema.parse({})),
});

export function parseReminderSettings(settings: unknown): ReminderSettings {
  return companyReminderSettingsSchema.parse(settings ?? {}).reminders;
}

/** The deployment's quiet-hour rules (configuration): a base window, state windows, the Sunday rule. */
export interface QuietHoursPolicy {
  window: QuietWindow;
  states: Record<string, QuietWindow>;
  noSundayVoice: boolean;
  channels: z.infer<typeof channel>[];
}

export const DEFAULT_QUIET_HOURS_POLICY: QuietHoursPolicy = {
  window: DEFAULT_QUIET_WINDOW,
  states: DEFAULT_STATE_WINDOWS,
  noSundayVoice: false,
  channels: ['sms', 'voice'],
};

/** Parses "08:00-21:00"; undefined when the text is not such a window. */
export function parseWindowText(text: string): QuietWindow | undefined {
  const match = /^\s*(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*$/.exec(text);
  if (!match) return undefined;
  const parsed = quietWindowSchema.safeParse({ start: match[1], end: match[2] });
  return parsed.success ? parsed.data : undefined;
}

/** Parses "FL=08:00-20:00,OK=08:00-20:00"; returns the problem as text when it cannot. */
export function parseStateWindowsText(text: string): Record<string, QuietWindow> | string {
  const out: Record<string, QuietWindow> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [state, window] = part.split('=').map((s) => s.trim());
    const parsed = window === undefined ? undefined : parseWindowText(window);
    if (!state || !/^[A-Z]{2}$/.test(state) || !parsed)
      return `"${part}" is not STATE=HH:mm-HH:mm (e.g. FL=08:00-20:00)`;
    out[state] = parsed;
  }
  return out;
}
