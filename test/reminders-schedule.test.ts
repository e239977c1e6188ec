import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { SCHEDULE_IDS } from '../lib/names';
import {
  ensureReminderSchedule,
  PausedBySettingsError,
  pauseReminderSchedule,
  SETTINGS_PAUSE_NOTE,
  resumeReminderSchedule,
  showReminderSchedule,
} from '../lib/reminders/schedule';
import type { ReminderRunSummary } from '../workflows/reminder-run';
import { createTestCompany, type TestCompany } from './support/dispatch';
import { eventually, openTestApp } from './support/harness';
import {
  addPerson,
  messageRow,
  planTouch,
  startReminderWorkers,
  type ReminderWorkers,
} from './support/reminders';

let app: App;
let workers: ReminderWorkers;
let company: TestCompany;

beforeAll(async () => {
  app = await openTestApp();
  workers = await startReminderWorkers(app, ['northeast']);
  company = await createTestCompany(app.sql, {
    credits: 100,
    settings: { reminders: { schedule: { everyMinutes: 1, dailyAt: ['09:00'], catchupWindowMinutes: 5 } } },
  });
});
afterAll(async () => {
  const client = await app.client();
  await client.schedule
    .getHandle(SCHEDULE_IDS.reminders(company.alias))
    .delete()
    .catch(() => {});
  await workers?.stop();
  await app?.close();
});

/** An email reminder (not held by quiet hours, whatever the hour the test runs at) due now. */
async function dueEmail(): Promise<number> {
  const p = await addPerson(app.sql, company.id, {
    state: 'NY',
    timezone: 'America/New_York',
    region: 'northeast',
    appointmentAt: new Date(Date.now() + 3 * 86_400_000),
    email: `ann.${Date.now()}@example.com`,
  });
  return planTouch(app.sql, company.id, p, {
    channel: 'email',
    contactAt: new Date(Date.now() - 60_000),
    step: 'email-3d',
    region: 'northeast',
  });
}

async function runOf(workflowId: string): Promise<ReminderRunSummary> {
  const client = await app.client();
  return client.workflow.getHandle(workflowId).result() as Promise<ReminderRunSummary>;
}

describe('the reminder schedule', () => {
  it('is made from the company settings, and fires: each run uses the time it was scheduled for as its clock', async () => {
    const client = await app.client();
    const created = await ensureReminderSchedule(client, app.sql, company.alias, {
      taskQueue: workers.taskQueue,
    });
    expect(created).toMatchObject({
      change: 'created',
      paused: false,
      everyMinutes: 1,
      dailyAt: ['09:00'],
      timezone: 'America/New_York',
    });
    const d = await client.schedule.getHandle(created.scheduleId).describe();
    expect(d.spec.calendars?.[0]).toMatchObject({
      hour: [{ start: 9, end: 9, step: 1 }],
      minute: [{ start: 0, end: 0, step: 1 }],
    });
    expect(d.policies.overlap).toBe('SKIP');

    const message = await dueEmail();
    // the one-minute interval fires on its own within a minute
    const action = await eventually(async () => {
      const state = await showReminderSchedule(client, app.sql, company.alias);
      return state?.recentRuns[0];
    }, 90_000);
    expect(action.workflowId).toMatch(new RegExp(`^reminders/${company.alias}/scheduled-`));
    const summary = await runOf(action.workflowId);
    expect(summary.now).toBe(action.scheduledAt);
    expect(summary.failed).toEqual([]);
    await eventually(
      async () => ((await messageRow(app.sql, message)).state === 'sent' ? true : undefined),
      60_000,
    );
  });

  it('pauses and resumes from the CLI functions; an update from settings keeps the pause', async () => {
    const client = await app.client();
    await pauseReminderSchedule(client, company.alias, 'paused by a test');
    const updated = await ensureReminderSchedule(client, app.sql, company.alias, {
      taskQueue: workers.taskQueue,
    });
    expect(updated).toMatchObject({ change: 'updated', paused: true, note: 'paused by a test' });
    await resumeReminderSchedule(client, app.sql, company.alias, 'resumed by a test');
    expect((await showReminderSchedule(client, app.sql, company.alias))?.paused).toBe(false);
  });

  it('follows paused in the settings both ways; the CLI cannot resume what the settings pause', async () => {
    const client = await app.client();
    const sync = () =>
      ensureReminderSchedule(client, app.sql, company.alias, { taskQueue: workers.taskQueue });
    const setPaused = (paused: boolean) => app.sql`
      update companies set settings = jsonb_set(settings, '{reminders,schedule,paused}', ${app.sql.json(paused)})
      where id = ${company.id}`;
    try {
      await setPaused(true);
      expect(await sync()).toMatchObject({ paused: true, note: SETTINGS_PAUSE_NOTE });
      await expect(
        resumeReminderSchedule(client, app.sql, company.alias, 'resumed by a test'),
      ).rejects.toThrow(PausedBySettingsError);
      expect((await showReminderSchedule(client, app.sql, company.alias))?.paused).toBe(true);

      await setPaused(false);
      expect(await sync()).toMatchObject({ paused: false });

      // an operator's pause is theirs to lift: a sync with the settings unpaused keeps it
      await pauseReminderSchedule(client, company.alias, 'paused by a test during an incident');
      expect(await sync()).toMatchObject({ paused: true, note: 'paused by a test during an incident' });
    } finally {
      await setPaused(false);
      await resumeReminderSchedule(client, app.sql, company.alias, 'resumed by a test');
    }
    expect((await showReminderSchedule(client, app.sql, company.alias))?.paused).toBe(false);
  });

  it('runs at once when triggered', async () => {
    const client = await app.client();
    const message = await dueEmail();
    const before = (await showReminderSchedule(client, app.sql, company.alias))!.recentRuns.length;
    await client.schedule.getHandle(SCHEDULE_IDS.reminders(company.alias)).trigger();
    await eventually(
      async () => ((await messageRow(app.sql, message)).state === 'sent' ? true : undefined),
      60_000,
    );
    expect((await showReminderSchedule(client, app.sql, company.alias))!.recentRuns.length).toBeGreaterThan(
      before,
    );
  });
});
