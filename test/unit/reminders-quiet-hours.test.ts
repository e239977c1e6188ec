import { describe, expect, it } from 'vitest';
import {
  companyRules,
  effectiveWindow,
  quietHoursDecision,
  recipientStates,
  recipientZone,
  type QuietHoursInput,
} from '../../lib/reminders/quiet-hours';
import {
  DEFAULT_QUIET_HOURS_POLICY,
  parseReminderSettings,
  parseStateWindowsText,
  parseWindowText,
} from '../../schemas/reminder-settings';

const rules = companyRules(DEFAULT_QUIET_HOURS_POLICY, {});
const at = (iso: string) => new Date(iso);

function decide(over: Partial<QuietHoursInput> & { at: Date }) {
  return quietHoursDecision({
    channel: 'sms',
    recipient: {},
    companyTimezone: 'America/New_York',
    rules,
    ...over,
  });
}

describe('the recipient zone', () => {
  it('prefers the contact zone, then state, ZIP, area code, company', () => {
    expect(recipientZone({ timezone: 'Pacific/Honolulu', state: 'NY' }, 'America/New_York')).toEqual({
      zone: 'Pacific/Honolulu',
      source: 'contact',
    });
    expect(recipientZone({ state: 'HI', phone: '+12125550100' }, 'America/New_York')).toEqual({
      zone: 'Pacific/Honolulu',
      source: 'state',
    });
    expect(recipientZone({ zip: '96813' }, 'America/New_York')).toEqual({
      zone: 'Pacific/Honolulu',
      source: 'zip',
    });
    expect(recipientZone({ phone: '+18085550100' }, 'America/New_York')).toEqual({
      zone: 'Pacific/Honolulu',
      source: 'phone',
    });
    expect(recipientZone({ phone: '+442071234567' }, 'America/Chicago')).toEqual({
      zone: 'America/Chicago',
      source: 'company',
    });
  });

  it('ignores an invalid stored zone', () => {
    expect(recipientZone({ timezone: 'Mars/Olympus', state: 'CA' }, 'America/New_York').zone).toBe(
      'America/Los_Angeles',
    );
  });

  it('applies the rules of the home state and of the phone number state', () => {
    expect(recipientStates({ state: 'ny', phone: '+13055550100' }).sort()).toEqual(['FL', 'NY']);
    expect(recipientStates({ zip: '33101' })).toEqual(['FL']);
  });
});

describe('windows', () => {
  it('narrows the federal window to 08:00-20:00 for Florida', () => {
    expect(effectiveWindow(rules, ['FL'])).toEqual({ start: 480, end: 1200, because: ['FL'] });
    expect(effectiveWindow(rules, ['NY'])).toEqual({ start: 480, end: 1260, because: [] });
  });

  it('lets a company narrow, never widen', () => {
    const narrow = companyRules(DEFAULT_QUIET_HOURS_POLICY, { window: { start: '09:00', end: '18:00' } });
    expect(effectiveWindow(narrow, [])).toMatchObject({ start: 540, end: 1080 });
    const wide = companyRules(DEFAULT_QUIET_HOURS_POLICY, {
      window: { start: '06:00', end: '23:00' },
      states: { FL: { start: '07:00', end: '22:00' } },
    });
    expect(effectiveWindow(wide, ['FL'])).toMatchObject({ start: 480, end: 1200 });
  });

  it('parses configuration text', () => {
    expect(parseWindowText('08:00-21:00')).toEqual({ start: '08:00', end: '21:00' });
    expect(parseWindowText('21:00-08:00')).toBeUndefined();
    expect(parseWindowText('8-21')).toBeUndefined();
    expect(parseStateWindowsText('FL=08:00-20:00, WA=08:00-20:00')).toEqual({
      FL: { start: '08:00', end: '20:00' },
      WA: { start: '08:00', end: '20:00' },
    });
    expect(parseStateWindowsText('Florida=8-8')).toMatch(/not STATE=/);
  });

  it('reads company settings with defaults, leaving other keys alone', () => {
    const s = parseReminderSettings({ reminderPlan: [], reminders: { quietHours: { noSundayVoice: true } } });
    expect(s.quietHours.noSundayVoice).toBe(true);
    expect(s.schedule).toEqual({ everyMinutes: 15, dailyAt: [], catchupWindowMinutes: 10, paused: false });
    expect(() => parseReminderSettings({ reminders: { schedule: { everyMinutes: null } } })).toThrow(
      /everyMinutes or dailyAt/,
    );
  });
});

describe('quiet hours decisions', () => {
  const hawaii = { timezone: 'Pacific/Honolulu', state: 'HI' };
  const newYork = { timezone: 'America/New_York', state: 'NY' };

  it('defers a Hawaii recipient at 07:00 HST while a New York one at 12:00 EST is sent', () => {
    const now = at('2027-01-15T17:00:00Z');
    const hi = decide({ at: now, recipient: hawaii });
    expect(hi).toMatchObject({ kind: 'defer', until: at('2027-01-15T18:00:00Z') });
    expect(hi.kind === 'defer' && hi.reason).toMatch(
      /07:00 in Pacific\/Honolulu is outside 08:00-21:00.*deferred to Fri 08:00/,
    );
    expect(decide({ at: now, recipient: newYork })).toEqual({
      kind: 'send',
      closesAt: at('2027-01-16T02:00:00Z'),
    });
  });

  it('treats the window as start inclusive, end exclusive', () => {
    const closesAt = at('2027-01-16T02:00:00Z');
    expect(decide({ at: at('2027-01-15T13:00:00Z'), recipient: newYork })).toEqual({
      kind: 'send',
      closesAt,
    });
    expect(decide({ at: at('2027-01-16T01:59:00Z'), recipient: newYork })).toEqual({
      kind: 'send',
      closesAt,
    });
    expect(decide({ at: at('2027-01-16T02:00:00Z'), recipient: newYork })).toMatchObject({
      kind: 'defer',
      until: at('2027-01-16T13:00:00Z'),
    });
    expect(decide({ at: at('2027-01-15T12:59:59Z'), recipient: newYork })).toMatchObject({
      kind: 'defer',
      until: at('2027-01-15T13:00:00Z'),
    });
  });

  it('defers a Florida recipient at 20:30 to the next morning', () => {
    const d = decide({
      at: at('2027-01-16T01:30:00Z'),
      recipient: { state: 'FL', timezone: 'America/New_York' },
    });
    expect(d).toMatchObject({ kind: 'defer', until: at('2027-01-16T13:00:00Z') });
    expect(d.kind === 'defer' && d.reason).toMatch(/08:00-20:00 \(FL\)/);
    // sent at 19:00, it may go only until Florida's 20:00
    expect(
      decide({ at: at('2027-01-16T00:00:00Z'), recipient: { state: 'FL', timezone: 'America/New_York' } }),
    ).toEqual({
      kind: 'send',
      closesAt: at('2027-01-16T01:00:00Z'),
    });
  });

  it('applies Florida rules to a Florida number living in New York', () => {
    expect(
      decide({ at: at('2027-01-16T01:30:00Z'), recipient: { state: 'NY', phone: '+13055550100' } }).kind,
    ).toBe('defer');
  });

  it('expires a message whose next opening is not before the appointment', () => {
    const d = decide({
      at: at('2027-01-15T11:00:00Z'),
      recipient: newYork,
      expiresAt: at('2027-01-15T13:00:00Z'),
    });
    expect(d.kind).toBe('expire');
    expect(d.kind === 'expire' && d.reason).toMatch(/not before the appointment/);
    expect(
      decide({ at: at('2027-01-15T11:00:00Z'), recipient: newYork, expiresAt: at('2027-01-15T13:00:01Z') })
        .kind,
    ).toBe('defer');
  });

  it('does not hold email back by default', () => {
    expect(decide({ at: at('2027-01-15T08:00:00Z'), channel: 'email', recipient: newYork })).toEqual({
      kind: 'send',
    });
    const strict = companyRules(DEFAULT_QUIET_HOURS_POLICY, { channels: ['email'] });
    expect(
      decide({ at: at('2027-01-15T08:00:00Z'), channel: 'email', recipient: newYork, rules: strict }).kind,
    ).toBe('defer');
  });

  it('keeps calls off Sundays when asked, texts not', () => {
    const noSunday = companyRules(DEFAULT_QUIET_HOURS_POLICY, { noSundayVoice: true });
    // Sunday 17 Jan 2027, 10:00 in New York
    const sunday = at('2027-01-17T15:00:00Z');
    expect(decide({ at: sunday, channel: 'voice', recipient: newYork, rules: noSunday })).toMatchObject({
      kind: 'defer',
      until: at('2027-01-18T13:00:00Z'),
    });
    const closesAt = at('2027-01-18T02:00:00Z');
    expect(decide({ at: sunday, channel: 'sms', recipient: newYork, rules: noSunday })).toEqual({
      kind: 'send',
      closesAt,
    });
    expect(decide({ at: sunday, channel: 'voice', recipient: newYork })).toEqual({ kind: 'send', closesAt });
    // Saturday 22:00 -> Monday 08:00, skipping Sunday
    expect(
      decide({ at: at('2027-01-17T03:00:00Z'), channel: 'voice', recipient: newYork, rules: noSunday }),
    ).toMatchObject({
      until: at('2027-01-18T13:00:00Z'),
    });
  });

  it('is DST-correct: the opening is 08:00 local on both sides of a change', () => {
    // spring forward, Sunday 14 March 2027: 07:00 EDT = 11:00Z, opening 08:00 EDT = 12:00Z
    expect(decide({ at: at('2027-03-14T06:30:00Z'), recipient: newYork })).toMatchObject({
      until: at('2027-03-14T12:00:00Z'),
    });
    // the night before the change, 23:00 EST: the next opening is 08:00 EDT
    expect(decide({ at: at('2027-03-14T04:00:00Z'), recipient: newYork })).toMatchObject({
      until: at('2027-03-14T12:00:00Z'),
    });
    // fall back, Sunday 7 November 2027: 08:00 EST = 13:00Z
    expect(decide({ at: at('2027-11-07T05:30:00Z'), recipient: newYork })).toMatchObject({
      until: at('2027-11-07T13:00:00Z'),
    });
    // 20:59 EDT on the last day of summer time is inside, 21:00 is outside
    expect(decide({ at: at('2027-11-07T00:59:00Z'), recipient: newYork })).toEqual({
      kind: 'send',
      closesAt: at('2027-11-07T01:00:00Z'),
    });
    // on the day clocks spring forward the window still closes at 21:00 wall time (EDT)
    expect(decide({ at: at('2027-03-14T16:00:00Z'), recipient: newYork })).toEqual({
      kind: 'send',
      closesAt: at('2027-03-15T01:00:00Z'),
    });
    // Hawaii keeps no DST: 08:00 HST is 18:00Z in July as in January
    expect(decide({ at: at('2027-07-15T17:00:00Z'), recipient: hawaii })).toMatchObject({
      until: at('2027-07-15T18:00:00Z'),
    });
  });

  it('holds everything when the rules leave no time at all', () => {
    const none = companyRules(DEFAULT_QUIET_HOURS_POLICY, { window: { start: '20:30', end: '21:00' } });
    expect(decide({ at: at('2027-01-15T17:00:00Z'), recipient: { state: 'FL' }, rules: none }).kind).toBe(
      'expire',
    );
  });

  it('uses the phone area code when nothing else is known', () => {
    // 07:30 in Los Angeles (area code 213) is 10:30 in New York
    expect(decide({ at: at('2027-01-15T15:30:00Z'), recipient: { phone: '+12135550100' } })).toMatchObject({
      kind: 'defer',
      until: at('2027-01-15T16:00:00Z'),
    });
  });
});

describe('quiet-hour configuration', () => {
  it('defaults to the federal window with Florida and Oklahoma narrower', async () => {
    const { loadConfig } = await import('../../lib/config');
    const config = loadConfig({});
    expect(config.reminders.quietHours.window).toEqual({ start: '08:00', end: '21:00' });
    expect(config.reminders.quietHours.states.FL).toEqual({ start: '08:00', end: '20:00' });
  });

  it('lets the environment override the window and add or change states', async () => {
    const { loadConfig } = await import('../../lib/config');
    const config = loadConfig({
      QUIET_HOURS: '09:00-20:00',
      QUIET_HOURS_STATES: 'WA=08:00-20:00,FL=09:00-19:00',
      QUIET_HOURS_NO_SUNDAY_VOICE: 'true',
    });
    expect(config.reminders.quietHours).toMatchObject({
      window: { start: '09:00', end: '20:00' },
      states: {
        FL: { start: '09:00', end: '19:00' },
        OK: { start: '08:00', end: '20:00' },
        WA: { start: '08:00', end: '20:00' },
      },
      noSundayVoice: true,
    });
  });

  it('names the variable of a bad value', async () => {
    const { ConfigError, loadConfig } = await import('../../lib/config');
    expect(() => loadConfig({ QUIET_HOURS: '21:00-08:00' })).toThrow(ConfigError);
    expect(() => loadConfig({ QUIET_HOURS_STATES: 'Florida=early' })).toThrow(/QUIET_HOURS_STATES/);
    expect(() => loadConfig({ EMAIL_PROVIDER: 'ses', SES_FROM_ADDRESS: 'a@b.example' })).toThrow(
      /UNSUBSCRIBE_SECRET is required/,
    );
  });
});
