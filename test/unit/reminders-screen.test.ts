import { describe, expect, it } from 'vitest';
import { companyRules } from '../../lib/reminders/quiet-hours';
import { screenMessage, type DueMessage } from '../../lib/reminders/screen';
import { DEFAULT_QUIET_HOURS_POLICY } from '../../schemas/reminder-settings';

const now = new Date('2027-01-15T17:00:00Z'); // 12:00 in New York, 07:00 in Honolulu
const ctx = { now, companyTimezone: 'America/New_York', rules: companyRules(DEFAULT_QUIET_HOURS_POLICY, {}) };

function message(over: Partial<DueMessage> = {}, contact: Partial<DueMessage['contact']> = {}): DueMessage {
  return {
    id: 1,
    uuid: '00000000-0000-4000-8000-000000000001',
    channel: 'sms',
    contactAt: new Date('2027-01-15T16:00:00Z'),
    expiresAt: new Date('2027-01-16T15:00:00Z'),
    appointmentAt: new Date('2027-01-16T15:00:00Z'),
    appointment: { status: 'scheduled', startsAt: new Date('2027-01-16T15:00:00Z'), droppedFrom: null },
    enrollment: { status: 'active', reason: null },
    blockedBy: null,
    ...over,
    contact: {
      timezone: 'America/New_York',
      state: 'NY',
      zip: null,
      phone: '+12125550100',
      doNotSms: false,
      doNotCall: false,
      doNotEmail: false,
      ...contact,
    },
  };
}

describe('screening a due message', () => {
  it('lets a message inside the window go, until the window closes (21:00 in New York)', () => {
    expect(screenMessage(message(), ctx)).toEqual({
      kind: 'ready',
      sendBy: new Date('2027-01-16T02:00:00Z'),
    });
  });

  it('cancels a reminder of a cancelled appointment', () => {
    expect(
      screenMessage(
        message({
          appointment: { status: 'cancelled', startsAt: new Date('2027-01-16T15:00:00Z'), droppedFrom: null },
        }),
        ctx,
      ),
    ).toEqual({
      kind: 'cancelled',
      reason: 'the appointment was cancelled',
    });
  });

  it('expires a reminder whose appointment passed', () => {
    const past = message({ expiresAt: new Date('2027-01-15T16:59:00Z') });
    expect(screenMessage(past, ctx)).toMatchObject({
      kind: 'expired',
      reason: expect.stringMatching(/had passed/),
    });
    const noExpiry = message({
      expiresAt: null,
      appointmentAt: null,
      appointment: { status: 'scheduled', startsAt: now, droppedFrom: null },
    });
    expect(screenMessage(noExpiry, ctx).kind).toBe('expired');
    expect(
      screenMessage(
        message({
          appointmentAt: now,
          appointment: { status: 'completed', startsAt: now, droppedFrom: null },
        }),
        ctx,
      ).kind,
    ).toBe('expired');
  });

  it('cancels a reminder made for a time the appointment no longer has, naming the new time', () => {
    const moved = message({
      appointment: { status: 'scheduled', startsAt: new Date('2027-01-20T15:00:00Z'), droppedFrom: null },
    });
    expect(screenMessage(moved, ctx)).toEqual({
      kind: 'cancelled',
      reason:
        'the appointment moved to 2027-01-20T15:00:00.000Z; its reminders for the new time are sent instead',
    });
  });

  it('cancels a reminder of an appointment its full-refresh feed no longer lists', () => {
    const dropped = message({
      appointment: {
        status: 'scheduled',
        startsAt: new Date('2027-01-16T15:00:00Z'),
        droppedFrom: 'nightly',
      },
    });
    expect(screenMessage(dropped, ctx)).toEqual({
      kind: 'cancelled',
      reason: 'the appointment is no longer in the full-refresh feed nightly',
    });
  });

  it('cancels the remaining touches of a stopped sequence, with its reason', () => {
    expect(screenMessage(message({ enrollment: { status: 'completed', reason: null } }), ctx)).toEqual({
      kind: 'cancelled',
      reason: 'the reminder sequence stopped: the person confirmed',
    });
    expect(
      screenMessage(message({ enrollment: { status: 'opted_out', reason: 'replied STOP' } }), ctx),
    ).toMatchObject({
      reason: 'the reminder sequence stopped: replied STOP',
    });
  });

  it('skips blocked and opted-out contacts with the reason', () => {
    expect(screenMessage(message({ blockedBy: 'do not text' }), ctx)).toEqual({
      kind: 'skipped',
      reason: 'on the company block list (do not text)',
    });
    expect(screenMessage(message({}, { doNotSms: true }), ctx)).toEqual({
      kind: 'skipped',
      reason: 'the contact opted out of sms',
    });
    expect(screenMessage(message({ channel: 'voice' }, { doNotSms: true }), ctx).kind).toBe('ready');
    expect(screenMessage(message({ channel: 'email' }, { doNotEmail: true }), ctx).kind).toBe('skipped');
  });

  it('defers a Hawaii recipient at 07:00 and expires one whose next opening is the appointment', () => {
    const hawaii = { timezone: 'Pacific/Honolulu', state: 'HI', phone: '+18085550100' };
    expect(screenMessage(message({}, hawaii), ctx)).toMatchObject({
      kind: 'defer',
      until: new Date('2027-01-15T18:00:00Z'),
    });
    const soon = message({ expiresAt: new Date('2027-01-15T18:00:00Z') }, hawaii);
    expect(screenMessage(soon, ctx)).toMatchObject({
      kind: 'expired',
      reason: expect.stringMatching(/quiet hours/),
    });
  });
});
