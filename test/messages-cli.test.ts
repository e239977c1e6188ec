// `herald messages upcoming`: what will be sent when, computed from the plan, with the messages already made and waiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { herald } from './support/cli';
import { createTestCompany, type TestCompany } from './support/dispatch';
import { openTestApp } from './support/harness';
import { addPerson, planTouch } from './support/reminders';

let app: App;
let company: TestCompany;
const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  app = await openTestApp();
  company = await createTestCompany(app.sql, {
    settings: {
      reminderPlan: [
        { step: 'sms-2d', channel: 'sms', offset: { days: -2 }, at: '10:00' },
        { step: 'sms-2h', channel: 'sms', offset: { hours: -2 } },
      ],
    },
  });
});
afterAll(async () => {
  await app?.close();
});

describe('herald messages upcoming', () => {
  it('lists the steps still to come and the messages waiting, in time order, within --from and --to', async () => {
    // New York, 15:00 local on a winter day far ahead
    const person = await addPerson(app.sql, company.id, {
      state: 'NY',
      timezone: 'America/New_York',
      region: 'northeast',
      appointmentAt: at('2031-01-15T20:00:00Z'),
    });
    // the two-day text was made and deferred by quiet hours: it waits with its new time
    await planTouch(app.sql, company.id, person, {
      channel: 'sms',
      contactAt: at('2031-01-13T15:30:00Z'),
      step: 'sms-2d',
      region: 'northeast',
    });
    await app.sql`update messages set appointment_at = ${at('2031-01-15T20:00:00Z')} where appointment_id = ${person.appointmentId}`;

    const run = await herald([
      'messages',
      'upcoming',
      '--company',
      company.alias,
      '--from',
      '2031-01-10',
      '--to',
      '2031-01-20',
      '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const rows = JSON.parse(run.stdout) as { at: string; step: string; status: string; channel: string }[];
    expect(rows.map((r) => [r.at, r.step, r.channel, r.status])).toEqual([
      ['2031-01-13T15:30:00.000Z', 'sms-2d', 'sms', 'scheduled'],
      ['2031-01-15T18:00:00.000Z', 'sms-2h', 'sms', 'to come'],
    ]);

    const narrow = await herald([
      'messages',
      'upcoming',
      '--company',
      company.alias,
      '--from',
      '2031-01-14',
      '--to',
      '2031-01-16',
    ]);
    expect(narrow.code).toBe(0);
    expect(narrow.stdout).toContain(`Reminders of ${company.alias} from 2031-01-14T00:00:00.000Z`);
    expect(narrow.stdout).toMatch(/2031-01-15T18:00:00\.000Z {2}sms {3}sms-2h {9}to come/);
    expect(narrow.stdout).not.toContain('sms-2d');
  });

  it('exits 2 for an unknown company or a window that ends before it starts', async () => {
    expect((await herald(['messages', 'upcoming', '--company', 'no-such-company'])).code).toBe(2);
    const backwards = await herald([
      'messages',
      'upcoming',
      '--company',
      company.alias,
      '--from',
      '2031-01-20',
      '--to',
      '2031-01-10',
    ]);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toContain('--to must be after --from');
  });
});
