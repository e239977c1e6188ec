import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { screenDuePage } from '../lib/reminders/screen-page';
import { DEFAULT_QUIET_HOURS_POLICY } from '../schemas/reminder-settings';
import type { ReminderRunSummary } from '../workflows/reminder-run';
import { createTestCompany } from './support/dispatch';
import { openTestApp } from './support/harness';
import {
  addPerson,
  floridian,
  hawaiian,
  messageRow,
  newYorker,
  outboxCount,
  planTouch,
  reminderClock,
  runReminders,
  startReminderWorkers,
  type ReminderWorkers,
} from './support/reminders';

let app: App;
let workers: ReminderWorkers;
const { now, hoursFromNow } = reminderClock();

beforeAll(async () => {
  app = await openTestApp();
  workers = await startReminderWorkers(app, ['northeast', 'pacific', 'southeast']);
});
afterAll(async () => {
  await workers?.stop();
  await app?.close();
});

const touch = async (
  companyId: number,
  who: { state: string; timezone: string; region: string; areaCode?: string },
  contactAt: Date,
  appointmentAt = hoursFromNow(26),
) => {
  const person = await addPerson(app.sql, companyId, { ...who, appointmentAt });
  return planTouch(app.sql, companyId, person, {
    channel: 'sms',
    contactAt,
    step: 'sms-1d',
    region: who.region,
  });
};

/** The run's page held every due message (`ids`): each sent once, and no region started. */
async function expectFirstPageSentAll(summary: ReminderRunSummary, ids: number[]) {
  expect(summary.failed).toEqual([]);
  expect(summary.firstPage?.screened).toMatchObject({ seen: ids.length, ready: { sms: ids.length } });
  expect(summary.firstPage?.sent.sms).toMatchObject({ sent: ids.length });
  expect(summary.regions).toEqual([]);
  expect(await outboxCount(app.sql, ids)).toBe(ids.length);
}

/** The history of the reminder run whose batch sent this message (its dispatch token names the run). */
async function historyOfRunThatSent(messageId: number) {
  const [row] = await app.sql<{ dispatch_token: string }[]>`
    select dispatch_token from messages where id = ${messageId}`;
  const token = row!.dispatch_token;
  const runId = token.slice(0, token.indexOf('#'));
  const client = await app.client();
  return { runId, events: (await client.workflow.getHandle(runId).fetchHistory()).events ?? [] };
}

describe("a reminder run's first page", () => {
  it('is screened and sent by the run before its regions start, each message once, by the same rules', async () => {
    const c = await createTestCompany(app.sql, { credits: 1000 });
    // the three most urgent, in three regions: a passed appointment, a Hawaiian at 07:00 HST, a New Yorker
    const passed = await touch(c.id, newYorker, hoursFromNow(-5), hoursFromNow(-1));
    const early = await touch(c.id, hawaiian, hoursFromNow(-4));
    const first = await touch(c.id, newYorker, hoursFromNow(-3));
    // the regions' share
    const rest = [
      await touch(c.id, newYorker, hoursFromNow(-1)),
      await touch(c.id, newYorker, hoursFromNow(-1)),
      await touch(c.id, floridian, hoursFromNow(-1)),
    ];

    const summary = await runReminders(app, workers, c.alias, now, { firstPage: 3 });
    expect(summary.failed).toEqual([]);
    expect(summary.firstPage?.screened).toMatchObject({
      seen: 3,
      expired: 1,
      deferred: 1,
      ready: { sms: 1, voice: 0, email: 0 },
    });
    expect(summary.firstPage?.sent.sms).toMatchObject({ sent: 1, failed: 0 });
    // the regions saw only what the first page left
    expect(summary.regions.reduce((n, r) => n + r.screened.seen, 0)).toBe(3);
    expect(summary.regions.reduce((n, r) => n + (r.sent.sms?.sent ?? 0), 0)).toBe(3);

    expect(await messageRow(app.sql, passed)).toMatchObject({ state: 'expired' });
    expect(await messageRow(app.sql, early)).toMatchObject({ state: 'scheduled', deferrals: 1 });
    for (const id of [first, ...rest]) expect((await messageRow(app.sql, id)).state).toBe('sent');
    expect(await outboxCount(app.sql, [first, ...rest])).toBe(4);
    expect(await outboxCount(app.sql, [passed, early])).toBe(0);

    // the run's own batch sent it, scheduled before the run started any region
    const { runId, events } = await historyOfRunThatSent(first);
    expect(runId).toMatch(new RegExp(`^reminders/${c.alias}/`));
    const firstOf = (has: (e: (typeof events)[number]) => boolean) => events.findIndex(has);
    const batch = firstOf(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendMessageBatch',
    );
    const child = firstOf((e) => !!e.startChildWorkflowExecutionInitiatedEventAttributes);
    expect(batch).toBeGreaterThanOrEqual(0);
    expect(child).toBeGreaterThan(batch);
  });

  it('starts its opening hundred before the rest of the page is screened', async () => {
    const c = await createTestCompany(app.sql, { credits: 1000 });
    const ids: number[] = [];
    for (let i = 0; i < 110; i++)
      ids.push(await touch(c.id, i % 2 ? newYorker : floridian, hoursFromNow(-1)));

    const summary = await runReminders(app, workers, c.alias, now);
    expect(ids).toHaveLength(110);
    await expectFirstPageSentAll(summary, ids);

    const { events } = await historyOfRunThatSent(ids[0]!);
    const scheduled = (name: string) =>
      events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name);
    // the rest of the page is an ordinary activity, scheduled after the opening's batches
    expect(scheduled('sendMessageBatch')).toBeGreaterThanOrEqual(0);
    expect(scheduled('screenDueMessages')).toBeGreaterThan(scheduled('sendMessageBatch'));
  });

  it('starts no region when it held every due message', async () => {
    const c = await createTestCompany(app.sql, { credits: 1000 });
    const ids = [
      await touch(c.id, newYorker, hoursFromNow(-2)),
      await touch(c.id, floridian, hoursFromNow(-1)),
    ];

    const summary = await runReminders(app, workers, c.alias, now);
    await expectFirstPageSentAll(summary, ids);
    const client = await app.client();
    const children: string[] = [];
    for await (const w of client.workflow.list({
      query: `CompanyAlias = '${c.alias}' AND WorkflowType = 'reminderRegion'`,
    }))
      children.push(w.workflowId);
    expect(children).toEqual([]);
  });
});

describe('screening a page', () => {
  it("reads every region's most urgent messages when no region is given, and a region passes over its run's", async () => {
    const c = await createTestCompany(app.sql, { credits: 1000 });
    const ny = await touch(c.id, newYorker, hoursFromNow(-3));
    const fl = await touch(c.id, floridian, hoursFromNow(-2));
    const nyLater = await touch(c.id, newYorker, hoursFromNow(-1));
    const page = (input: { region?: string; limit: number; screenedBy: string; passOver?: string }) =>
      screenDuePage(app.sql, DEFAULT_QUIET_HOURS_POLICY, {
        companyId: c.id,
        now: now.toISOString(),
        ...input,
      });

    const first = await page({ limit: 2, screenedBy: 'run-a' });
    expect(first.readyIds.sms).toEqual([ny, fl]);

    const region = await page({
      region: 'northeast',
      limit: 10,
      screenedBy: 'run-a/region/northeast',
      passOver: 'run-a',
    });
    expect(region.readyIds.sms).toEqual([nyLater]);
    // another run's region screens them all again: only its own run's page is passed over
    const other = await page({
      region: 'northeast',
      limit: 10,
      screenedBy: 'run-b/region/northeast',
      passOver: 'run-b',
    });
    expect(other.readyIds.sms).toEqual([ny, nyLater]);
  });
});
