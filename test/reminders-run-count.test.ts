// A reminder run's summary counts the messages the run made, however often its first step was retried after it committed.
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../activities';
import type { PreparedRun } from '../activities/reminders';
import type { App } from '../lib/app';
import { createTestCompany, type TestCompany } from './support/dispatch';
import { openTestApp, testActivities } from './support/harness';
import {
  addPerson,
  runReminders,
  startReminderWorkers,
  newYorker,
  reminderClock,
  type ReminderWorkers,
} from './support/reminders';

let app: App;
let activities: Activities;
let workers: ReminderWorkers;
/** how many attempts of prepareReminderRun failed after their statement committed */
let lostAnswers = 0;
let loseNextAnswer = false;
const { now, hoursFromNow } = reminderClock();

beforeAll(async () => {
  app = await openTestApp();
  activities = testActivities(app);
  // an attempt whose work commits and whose answer never reaches the workflow (a timeout, a worker
  // restart, a failed workflow task): the run retries its first step
  const losing: Activities = {
    ...activities,
    prepareReminderRun: async (input) => {
      const prepared = await activities.prepareReminderRun(input);
      if (loseNextAnswer) {
        loseNextAnswer = false;
        lostAnswers += 1;
        throw new Error('the answer was lost after the statement committed');
      }
      return prepared;
    },
  };
  workers = await startReminderWorkers(app, ['northeast'], [], losing);
});
afterAll(async () => {
  await workers?.stop();
  await app?.close();
});

/** A company whose plan texts the day before, with `n` New Yorkers whose text is due at `now`. */
async function companyWithDueTexts(n: number): Promise<TestCompany> {
  const c = await createTestCompany(app.sql, {
    credits: 100,
    settings: { reminderPlan: [{ step: 'sms-1d', channel: 'sms', offset: { days: -1 } }] },
  });
  for (let i = 0; i < n; i++)
    await addPerson(app.sql, c.id, {
      ...newYorker,
      appointmentAt: hoursFromNow(12 + i / 60),
    });
  return c;
}

const messagesOf = async (c: TestCompany) =>
  (await app.sql<{ n: number }[]>`select count(*)::int as n from messages where company_id = ${c.id}`)[0]!.n;

describe("a reminder run's count of the messages it made", () => {
  it('is the same when its first step runs again for the run, and leaves out what earlier runs made', async () => {
    const c = await companyWithDueTexts(3);
    const runId = randomUUID();
    const input = { companyAlias: c.alias, now: now.toISOString(), runId };
    const prepare = (i: typeof input): Promise<PreparedRun> =>
      new MockActivityEnvironment().run(activities.prepareReminderRun, i);
    const once = await prepare(input);
    expect(once.created).toBe(3);
    // the same run's step again (a retry after the first attempt committed): nothing new, the same count
    const again = await prepare(input);
    expect(again.created).toBe(3);
    expect(again.regions).toEqual(once.regions);
    expect(await messagesOf(c)).toBe(3);
    // another run at the same moment made nothing: those three are the earlier run's
    const other = await prepare({ ...input, runId: randomUUID() });
    expect(other.created).toBe(0);
  });

  it("forgets its company's counts older than a week, and no other company's", async () => {
    const c = await companyWithDueTexts(1);
    const other = await companyWithDueTexts(0);
    for (const [companyId, runId, age] of [
      [c.id, 'old', '8 days'],
      [c.id, 'recent', '6 days'],
      [other.id, 'old', '8 days'],
    ] as const)
      await app.sql`
        insert into reminder_runs (company_id, run_id, run_at, created, recorded_at)
        values (${companyId}, ${runId}, now() - ${age}::interval, 1, now() - ${age}::interval)`;
    const runId = randomUUID();
    await new MockActivityEnvironment().run(activities.prepareReminderRun, {
      companyAlias: c.alias,
      now: now.toISOString(),
      runId,
    });
    const kept = await app.sql<{ company_id: number; run_id: string }[]>`
      select company_id::int, run_id from reminder_runs where company_id in (${c.id}, ${other.id})`;
    expect(kept.map((r) => `${r.company_id} ${r.run_id}`).sort()).toEqual(
      [`${c.id} recent`, `${c.id} ${runId}`, `${other.id} old`].sort(),
    );
  });

  it("reports every message the run made when its first attempt's answer was lost after it committed", async () => {
    const c = await companyWithDueTexts(4);
    loseNextAnswer = true;
    const before = lostAnswers;
    const summary = await runReminders(app, workers, c.alias, now);
    expect(lostAnswers).toBe(before + 1);
    expect(await messagesOf(c)).toBe(4);
    expect(summary.created).toBe(4);
    expect(summary.firstPage?.sent.sms).toMatchObject({ sent: 4 });
  });
});
