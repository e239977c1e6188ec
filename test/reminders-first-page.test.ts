import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { screenDuePage } from '../lib/reminders/screen-page';
import { DEFAULT_QUIET_HOURS_POLICY } from '../schemas/reminder-settings';
import { createTestCompany } from './support/dispatch';
import { openTestApp } from './support/harness';
import {
  addPerson,
  messageRow,
  outboxCount,
  planTouch,
  runReminders,
  startReminderWorkers,
  winterNoonInNewYork,
  type ReminderWorkers,
} from './support/reminders';

let app: App;
let workers: ReminderWorkers;
const now = winterNoonInNewYork();
const hoursFromNow = (h: number) => new Date(now.getTime() + h * 3_600_000);
const newYorker = { state: 'NY', timezone: 'America/New_York', region: 'northeast' };
const floridian = { state: 'FL', timezone: 'America/New_York', region: 'southeast', areaCode: '305' };
const hawaiian = { state: 'HI', timezone: 'Pacific/Honolulu', region: 'pacific', areaCode: '808' };

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
  who: typeof newYorker,
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
    const [row] = await app.sql<{ dispatch_token: string }[]>`
      select dispatch_token from messages where id = ${first}`;
    const token = row!.dispatch_token;
    const runId = token.slice(0, token.indexOf('#'));
    expect(runId).toMatch(new RegExp(`^reminders/${c.alias}/`));
    const client = await app.client();
    const history = await client.workflow.getHandle(runId).fetchHistory();
    const events = history.events ?? [];
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
    expect(summary.failed).toEqual([]);
    expect(summary.firstPage?.screened).toMatchObject({ seen: 110, ready: { sms: 110 } });
    expect(summary.firstPage?.sent.sms).toMatchObject({ sent: 110 });
    expect(summary.regions).toEqual([]);
    expect(await outboxCount(app.sql, ids)).toBe(110);

    const [row] = await app.sql<{ dispatch_token: string }[]>`
      select dispatch_token from messages where id = ${ids[0]!}`;
    const runId = row!.dispatch_token.slice(0, row!.dispatch_token.indexOf('#'));
    const client = await app.client();
    const events = (await client.workflow.getHandle(runId).fetchHistory()).events ?? [];
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
    expect(summary.failed).toEqual([]);
    expect(summary.firstPage?.screened).toMatchObject({ seen: 2, ready: { sms: 2 } });
    expect(summary.firstPage?.sent.sms).toMatchObject({ sent: 2 });
    expect(summary.regions).toEqual([]);
    expect(await outboxCount(app.sql, ids)).toBe(2);
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
