// Decides, for one due message, whether it may go now: cancelled, expired, blocked, opted out, held by quiet hours, or ready.
import { quietHoursDecision, type Channel, type QuietHoursRules } from './quiet-hours';

export interface DueMessage {
  id: number;
  uuid: string;
  channel: Channel;
  contactAt: Date;
  expiresAt: Date | null;
  /** the appointment time a plan step's message was made for (null for a message that is no plan step) */
  appointmentAt: Date | null;
  /** the appointment as it is now; droppedFrom names the full-refresh feed that no longer lists it */
  appointment: { status: string; startsAt: Date; droppedFrom: string | null } | null;
  /** the drip enrollment of the appointment, when it has one for this message's appointment time */
  enrollment: { status: string; reason: string | null } | null;
  contact: {
    timezone: string | null;
    state: string | null;
    zip: string | null;
    phone: string | null;
    doNotSms: boolean;
    doNotCall: boolean;
    doNotEmail: boolean;
  };
  /** the company block-list entry this contact matches, if any */
  blockedBy: string | null;
}

export type Screening =
  /** sendBy: the recipient's allowed hours end then; dispatch must not claim it later */
  | { kind: 'ready'; sendBy?: Date }
  | { kind: 'defer'; until: Date; reason: string }
  | { kind: 'expired'; reason: string }
  | { kind: 'cancelled'; reason: string }
  | { kind: 'skipped'; reason: string };

export interface ScreenContext {
  now: Date;
  companyTimezone: string;
  rules: QuietHoursRules;
}

const optedOut = (m: DueMessage) =>
  m.channel === 'sms'
    ? m.contact.doNotSms
    : m.channel === 'voice'
      ? m.contact.doNotCall
      : m.contact.doNotEmail;

const SEQUENCE_STOPPED: Record<string, string> = {
  completed: 'the person confirmed',
  cancelled: 'the person cancelled or asked to reschedule',
  opted_out: 'the person opted out',
  paused: 'an operator paused it',
};

/**
 * The order matters: what is final about the appointment (cancelled, passed) is said first, then
 * what is about the person (sequence stopped, blocked, opted out), and only then the clock.
 */
export function screenMessage(m: DueMessage, ctx: ScreenContext): Screening {
  const { now } = ctx;
  if (m.appointment?.status === 'cancelled')
    return { kind: 'cancelled', reason: 'the appointment was cancelled' };
  if (m.appointment?.droppedFrom)
    return {
      kind: 'cancelled',
      reason: `the appointment is no longer in the full-refresh feed ${m.appointment.droppedFrom}`,
    };
  if (m.appointment && m.appointmentAt && m.appointmentAt.getTime() !== m.appointment.startsAt.getTime())
    return {
      kind: 'cancelled',
      reason: `the appointment moved to ${m.appointment.startsAt.toISOString()}; its reminders for the new time are sent instead`,
    };
  if (m.enrollment && m.enrollment.status !== 'active') {
    const why = SEQUENCE_STOPPED[m.enrollment.status] ?? m.enrollment.status;
    return { kind: 'cancelled', reason: `the reminder sequence stopped: ${m.enrollment.reason ?? why}` };
  }
  if (m.appointment?.status === 'completed')
    return { kind: 'expired', reason: 'the appointment is completed' };
  const deadline = m.expiresAt ?? m.appointment?.startsAt ?? null;
  if (deadline && deadline <= now) {
    return {
      kind: 'expired',
      reason: `its appointment (${deadline.toISOString()}) had passed when the run reached it`,
    };
  }
  if (m.blockedBy !== null) return { kind: 'skipped', reason: `on the company block list (${m.blockedBy})` };
  if (optedOut(m)) return { kind: 'skipped', reason: `the contact opted out of ${m.channel}` };
  const quiet = quietHoursDecision({
    at: now,
    channel: m.channel,
    recipient: m.contact,
    companyTimezone: ctx.companyTimezone,
    rules: ctx.rules,
    expiresAt: deadline,
  });
  if (quiet.kind === 'send') return { kind: 'ready', sendBy: quiet.closesAt };
  if (quiet.kind === 'defer') return quiet;
  return { kind: 'expired', reason: quiet.reason };
}
