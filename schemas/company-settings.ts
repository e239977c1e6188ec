// The zod schema of companies.settings: the reminder plan the reminder run follows, with its defaults.
import { z } from 'zod';

export const channel = z.enum(['sms', 'voice', 'email']);
export type Channel = z.infer<typeof channel>;

/** How long before the appointment a step fires; negative numbers mean "before". */
const offset = z
  .strictObject({
    days: z.number().int().min(-60).max(0).optional(),
    hours: z
      .number()
      .int()
      .min(-23 * 60)
      .max(0)
      .optional(),
    minutes: z
      .number()
      .int()
      .min(-59 * 24 * 60)
      .max(0)
      .optional(),
  })
  .refine((o) => o.days !== undefined || o.hours !== undefined || o.minutes !== undefined, {
    message: 'needs days, hours or minutes (e.g. { "days": -2 })',
  });

export const reminderStep = z
  .strictObject({
    /** unique within the plan; a message per (appointment, step) */
    step: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,40}$/, 'lower-case letters, digits, - and _'),
    channel,
    template: z.string().min(1).default('appointment_reminder'),
    /** used instead of `template` when the appointment moved after herald first learned its time */
    movedTemplate: z.string().min(1).optional(),
    offset,
    /** local time of day (the contact's zone) on the offset day; without it the offset is exact */
    at: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm on a 24-hour clock, e.g. 10:00')
      .optional(),
  })
  .refine((s) => s.at === undefined || (s.offset.hours === undefined && s.offset.minutes === undefined), {
    message: 'a step with "at" may only offset whole days',
  });
export type ReminderStep = z.infer<typeof reminderStep>;

/** SMS two days before at 10:00 local, a call the day before, an SMS two hours before; each says when it moved. */
export const DEFAULT_REMINDER_PLAN: ReminderStep[] = [
  {
    step: 'sms-2d',
    channel: 'sms',
    template: 'appointment_reminder',
    movedTemplate: 'appointment_moved',
    offset: { days: -2 },
    at: '10:00',
  },
  {
    step: 'voice-1d',
    channel: 'voice',
    template: 'appointment_reminder',
    movedTemplate: 'appointment_moved',
    offset: { days: -1 },
    at: '17:00',
  },
  {
    step: 'sms-2h',
    channel: 'sms',
    template: 'appointment_reminder',
    movedTemplate: 'appointment_moved',
    offset: { hours: -2 },
  },
];

export const companySettingsSchema = z.looseObject({
  reminderPlan: z
    .array(reminderStep)
    .max(20)
    .default(DEFAULT_REMINDER_PLAN)
    .refine((steps) => new Set(steps.map((s) => s.step)).size === steps.length, {
      message: 'step names must be unique',
    }),
  /** the channel used when a step's channel cannot reach the contact (no valid phone, no email) */
  fallbackChannel: channel.nullable().default('email'),
});
export type CompanySettings = z.infer<typeof companySettingsSchema>;

/** Minutes a step's offset adds to the appointment time (negative: before it). */
export function offsetMinutes(step: ReminderStep): number {
  return (step.offset.days ?? 0) * 1440 + (step.offset.hours ?? 0) * 60 + (step.offset.minutes ?? 0);
}
