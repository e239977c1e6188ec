import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../activities';
import type { App } from '../lib/app';
import { regionTaskQueue } from '../lib/names';
import { createTestCompany, type TestCompany } from './support/dispatch';
import { eventually, openTestApp, startTestWorker, type TestWorker } from './support/harness';
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

// The southeast spans two zones: at 13:30Z in winter it is 08:30 in Georgia and 07:30 in Alabama.
const clock = new Date(winterNoonInNewYork().getTime() - 3.5 * 3_600_000);
const minutes = (m: number, from = clock) => new Date(from.getTime() + m * 60_000);
const georgian = { state: 'GA', timezone: 'America/New_York', region: 'southeast' };
const alabamian = { state: 'AL', timezone: 'America/Chicago', region: 'southeast' };
/** the southeast's worker screens everything: the writes slipped in go around its screenings */
const regionsOnly = { firstPage: 0 };

let app: App;
let workers: ReminderWorkers;
let region: TestWorker;
let company: TestCompany;
/** runs once right after the region's next page is screened: something committed in between */
let afterScreening: (() => Promise<void>) | undefined;
/** runs before each screening of a page, with how many pages were screened before it */
let beforeScreening: ((pagesBefore: number) => Promise<void>) | undefined;

beforeAll(async () => {
  app = await openTestApp();
  workers = await startReminderWorkers(app, []);
  // the southeast's worker runs the real activities; a test may slip a write in around a screening
  let pages = 0;
  const activities: Activities = {
    ...workers.activities,
    async screenDueMessages(input) {
      await beforeScreening?.(pages++);
      const page = await workers.activities.screenDueMessages(input);
      const slip = afterScreening;
      afterScreening = undefined;
      await slip?.();
      return page;
    },
  };
  region = await startTestWorker(app, { activities, taskQueue: regionTaskQueue('southeast') });
  company = await createTestCompany(app.sql, { credits: 1000 });
});
afterAll(async () => {
  await region?.stop();
  await workers?.stop();
  await app?.close();
});

const touch = async (who: typeof georgian, contactAt: Date, step: string) => {
  const p = await addPerson(app.sql, company.id, { ...who, appointmentAt: minutes(48 * 60) });
  return planTouch(app.sql, company.id, p, { channel: 'sms', contactAt, step, region: who.region });
};

describe("dispatch sends only what the region's screening checked", () => {
  it('a message that becomes due after the screening waits for the next run, which checks its quiet hours', async () => {
    const ready = await touch(georgian, minutes(-60), 'sms-1d');
    let late = 0;
    afterScreening = async () => {
      // loaded (or released from held) between the screening and dispatch: 07:30 in Alabama
      late = await touch(alabamian, minutes(-10), 'sms-2h');
    };
    const first = await runReminders(app, workers, company.alias, clock, regionsOnly);
    expect(late).toBeGreaterThan(0);
    expect(first.regions.find((r) => r.region === 'southeast')?.sent.sms?.sent).toBe(1);
    expect((await messageRow(app.sql, ready)).state).toBe('sent');
    // not sent unchecked at 07:30 local; untouched until a run screens it
    expect(await messageRow(app.sql, late)).toMatchObject({ state: 'scheduled', deferrals: 0 });
    expect(await outboxCount(app.sql, [late])).toBe(0);

    await runReminders(app, workers, company.alias, minutes(1), regionsOnly);
    const deferred = await messageRow(app.sql, late);
    expect(deferred).toMatchObject({ state: 'scheduled', deferrals: 1 });
    expect(deferred.status_description).toMatch(/07:31 in America\/Chicago is outside 08:00-21:00/);
    // 08:00 CST
    expect(deferred.contact_at).toEqual(minutes(30));

    await runReminders(app, workers, company.alias, minutes(31), regionsOnly);
    expect((await messageRow(app.sql, late)).state).toBe('sent');
    expect(await outboxCount(app.sql, [ready, late])).toBe(2);
  });

  it('a message whose allowed hours end before dispatch claims it is not sent, and the next run defers it', async () => {
    // screened a millisecond before 21:00 in Georgia: by the time dispatch claims it, the window has closed
    const evening = new Date(clock.getTime() + 12.5 * 3_600_000 - 1);
    const m = await touch(georgian, minutes(-60, evening), 'sms-evening');
    await runReminders(app, workers, company.alias, evening, regionsOnly);
    expect(await messageRow(app.sql, m)).toMatchObject({ state: 'scheduled', deferrals: 0 });
    expect(await outboxCount(app.sql, [m])).toBe(0);

    await runReminders(app, workers, company.alias, minutes(1, evening), regionsOnly);
    const deferred = await messageRow(app.sql, m);
    expect(deferred).toMatchObject({ state: 'scheduled', deferrals: 1 });
    expect(deferred.status_description).toMatch(/21:00 in America\/New_York is outside 08:00-21:00/);
  });

  it('a message whose appointment passes before it is claimed is not sent, and the next run expires it', async () => {
    // a run whose clock is an hour behind (a late schedule, a catch-up) for an appointment that passed a
    // minute ago; by email, which quiet hours do not hold, so only the appointment bounds the claim
    const appointmentAt = new Date(Date.now() - 60_000);
    const p = await addPerson(app.sql, company.id, { ...georgian, appointmentAt, email: 'ann@example.com' });
    const m = await planTouch(app.sql, company.id, p, {
      channel: 'email',
      contactAt: new Date(appointmentAt.getTime() - 2 * 3_600_000),
      step: 'email-2h',
      region: georgian.region,
    });
    const behind = await runReminders(
      app,
      workers,
      company.alias,
      new Date(appointmentAt.getTime() - 3_600_000),
      regionsOnly,
    );
    expect(behind.regions.find((r) => r.region === 'southeast')?.screened.ready.email).toBe(1);
    expect(await messageRow(app.sql, m)).toMatchObject({ state: 'scheduled' });
    expect(await outboxCount(app.sql, [m])).toBe(0);

    await runReminders(app, workers, company.alias, new Date(), regionsOnly);
    const expired = await messageRow(app.sql, m);
    expect(expired.state).toBe('expired');
    expect(expired.status_description).toMatch(/had passed when the run reached it/);
  });

  it("sends a page's texts before the next page is screened, each exactly once", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push(await touch(georgian, minutes(-60 + i), 'sms-1d'));
    const firstPage = ids.slice(0, 2);
    let sentBeforeSecondPage = -1;
    let first: number | undefined;
    beforeScreening = async (n) => {
      first ??= n;
      if (n !== first + 1) return;
      // the second page's screening waits for the first page's texts, which never come while sending
      // starts only after the whole region is screened: then it goes on with what was sent
      sentBeforeSecondPage = await eventually(async () => {
        const sent = await outboxCount(app.sql, firstPage);
        return sent === firstPage.length ? sent : undefined;
      }, 20_000).catch(() => outboxCount(app.sql, firstPage));
    };
    try {
      const summary = await runReminders(app, workers, company.alias, clock, { ...regionsOnly, pageSize: 2 });
      expect(sentBeforeSecondPage).toBe(2);
      const southeast = summary.regions.find((r) => r.region === 'southeast');
      expect(southeast?.screened).toMatchObject({ seen: 4, ready: { sms: 4 } });
      expect(southeast?.sent.sms).toMatchObject({ sent: 4, batches: 2 });
    } finally {
      beforeScreening = undefined;
    }
    expect(await outboxCount(app.sql, ids)).toBe(4);
    const states = await app.sql<{ state: string }[]>`select state from messages where id in ${app.sql(ids)}`;
    expect(states.map((s) => s.state)).toEqual(['sent', 'sent', 'sent', 'sent']);
  });
});
