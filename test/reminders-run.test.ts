import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { createTestCompany, type TestCompany } from './support/dispatch';
import { eventually, openTestApp } from './support/harness';
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

async function company(): Promise<TestCompany> {
  return createTestCompany(app.sql, { credits: 1000 });
}

/** the regions screen everything: what these tests look at is each region's account of it */
const regionsOnly = { firstPage: 0 };

describe('a reminder run', () => {
  it('sends due messages exactly once, per region, and a second run sends nothing', async () => {
    const c = await company();
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) {
      const person = await addPerson(app.sql, c.id, { ...newYorker, appointmentAt: hoursFromNow(24) });
      ids.push(
        await planTouch(app.sql, c.id, person, {
          channel: 'sms',
          contactAt: hoursFromNow(-1),
          step: 'sms-1d',
          region: 'northeast',
        }),
      );
    }
    const inMiami = await addPerson(app.sql, c.id, { ...floridian, appointmentAt: hoursFromNow(30) });
    ids.push(
      await planTouch(app.sql, c.id, inMiami, {
        channel: 'sms',
        contactAt: hoursFromNow(-2),
        step: 'sms-1d',
        region: 'southeast',
      }),
    );
    // not due yet: left alone
    const later = await planTouch(app.sql, c.id, inMiami, {
      channel: 'sms',
      contactAt: hoursFromNow(3),
      step: 'sms-2h',
      region: 'southeast',
    });

    const summary = await runReminders(app, workers, c.alias, now, regionsOnly);
    expect(summary.now).toBe(now.toISOString());
    expect(summary.failed).toEqual([]);
    expect(summary.regions.map((r) => r.region)).toEqual(['northeast', 'southeast']);
    const northeast = summary.regions.find((r) => r.region === 'northeast')!;
    expect(northeast.screened).toMatchObject({ seen: 4, deferred: 0, ready: { sms: 4, voice: 0, email: 0 } });
    expect(northeast.sent.sms).toMatchObject({ sent: 4, failed: 0 });
    expect(summary.regions.find((r) => r.region === 'southeast')!.sent.sms).toMatchObject({ sent: 1 });

    for (const id of ids) expect((await messageRow(app.sql, id)).state).toBe('sent');
    expect(await outboxCount(app.sql, ids)).toBe(5);
    expect((await messageRow(app.sql, later)).state).toBe('scheduled');

    const again = await runReminders(app, workers, c.alias, now, regionsOnly);
    expect(again.regions).toEqual([]);
    expect(await outboxCount(app.sql, ids)).toBe(5);
  });

  it('defers a Hawaii recipient at 07:00 HST while a New York one at 12:00 EST is sent', async () => {
    const c = await company();
    const honolulu = await addPerson(app.sql, c.id, { ...hawaiian, appointmentAt: hoursFromNow(26) });
    const newYork = await addPerson(app.sql, c.id, { ...newYorker, appointmentAt: hoursFromNow(26) });
    const hi = await planTouch(app.sql, c.id, honolulu, {
      channel: 'sms',
      contactAt: hoursFromNow(-0.5),
      step: 'sms-1d',
      region: 'pacific',
    });
    const ny = await planTouch(app.sql, c.id, newYork, {
      channel: 'sms',
      contactAt: hoursFromNow(-0.5),
      step: 'sms-1d',
      region: 'northeast',
    });

    const summary = await runReminders(app, workers, c.alias, now, regionsOnly);
    expect(summary.regions.find((r) => r.region === 'pacific')!.screened).toMatchObject({
      seen: 1,
      deferred: 1,
      ready: { sms: 0 },
    });

    const deferred = await messageRow(app.sql, hi);
    expect(deferred.state).toBe('scheduled');
    expect(deferred.contact_at).toEqual(hoursFromNow(1)); // 08:00 HST
    expect(deferred.planned_contact_at).toEqual(hoursFromNow(-0.5));
    expect(deferred.deferrals).toBe(1);
    expect(deferred.status_description).toMatch(/07:00 in Pacific\/Honolulu is outside 08:00-21:00/);
    expect((await messageRow(app.sql, ny)).state).toBe('sent');
    expect(await outboxCount(app.sql, [hi])).toBe(0);
    const [event] = await app.sql<
      { event_type: string }[]
    >`select event_type from message_updates where message_id = ${hi}`;
    expect(event?.event_type).toBe('deferred');

    // at 08:00 HST the deferred message goes out
    const later = await runReminders(app, workers, c.alias, hoursFromNow(1), regionsOnly);
    expect(later.regions.find((r) => r.region === 'pacific')!.sent.sms).toMatchObject({ sent: 1 });
    expect((await messageRow(app.sql, hi)).state).toBe('sent');
  });

  it('never sends a reminder of a past or cancelled appointment, and says why', async () => {
    const c = await company();
    const past = await addPerson(app.sql, c.id, { ...newYorker, appointmentAt: hoursFromNow(-1) });
    const cancelled = await addPerson(app.sql, c.id, { ...newYorker, appointmentAt: hoursFromNow(5) });
    await app.sql`update appointments set status = 'cancelled' where id = ${cancelled.appointmentId}`;
    const pastId = await planTouch(app.sql, c.id, past, {
      channel: 'sms',
      contactAt: hoursFromNow(-3),
      step: 'sms-2h',
      region: 'northeast',
    });
    const cancelledId = await planTouch(app.sql, c.id, cancelled, {
      channel: 'voice',
      contactAt: hoursFromNow(-1),
      step: 'voice-1d',
      region: 'northeast',
    });

    const summary = await runReminders(app, workers, c.alias, now, regionsOnly);
    expect(summary.regions[0]!.screened).toMatchObject({
      seen: 2,
      expired: 1,
      cancelled: 1,
      ready: { sms: 0, voice: 0 },
    });
    expect(summary.regions[0]!.sent).toEqual({});
    expect(await messageRow(app.sql, pastId)).toMatchObject({
      state: 'expired',
      status_description: expect.stringMatching(/had passed/),
    });
    expect(await messageRow(app.sql, cancelledId)).toMatchObject({
      state: 'cancelled',
      status_description: 'the appointment was cancelled',
    });
    expect(await outboxCount(app.sql, [pastId, cancelledId])).toBe(0);
  });

  it('skips blocked and opted-out people with the reason', async () => {
    const c = await company();
    const blocked = await addPerson(app.sql, c.id, { ...newYorker, appointmentAt: hoursFromNow(20) });
    const optedOut = await addPerson(app.sql, c.id, { ...newYorker, appointmentAt: hoursFromNow(20) });
    await app.sql`insert into contact_blocks (company_id, purpose, name, criteria)
                  values (${c.id}, 'block', 'asked never to be texted', ${app.sql.json({ phone: blocked.phone })})`;
    await app.sql`update contacts set do_not_sms = true where id = ${optedOut.contactId}`;
    const a = await planTouch(app.sql, c.id, blocked, {
      channel: 'sms',
      contactAt: hoursFromNow(-1),
      step: 'sms-1d',
      region: 'northeast',
    });
    const b = await planTouch(app.sql, c.id, optedOut, {
      channel: 'sms',
      contactAt: hoursFromNow(-1),
      step: 'sms-1d',
      region: 'northeast',
    });
    await runReminders(app, workers, c.alias, now, regionsOnly);
    expect(await messageRow(app.sql, a)).toMatchObject({
      state: 'skipped',
      status_description: 'on the company block list (asked never to be texted)',
    });
    expect(await messageRow(app.sql, b)).toMatchObject({
      state: 'skipped',
      status_description: 'the contact opted out of sms',
    });
    expect(await outboxCount(app.sql, [a, b])).toBe(0);
  });
});

describe('a long backlog', () => {
  it('is screened in pages and continues as new, deferring some and sending the rest exactly once', async () => {
    const c = await createTestCompany(app.sql, { credits: 1000 });
    const sent: number[] = [];
    const deferred: number[] = [];
    for (let i = 0; i < 7; i++) {
      const inHawaii = i % 3 === 0;
      // all in one region: a Hawaiian's zone, not its region, makes the quiet hours
      const person = await addPerson(app.sql, c.id, {
        ...(inHawaii ? hawaiian : newYorker),
        region: 'northeast',
        appointmentAt: hoursFromNow(30),
      });
      // equal contact times: the keyset cursor must still move on by id
      const id = await planTouch(app.sql, c.id, person, {
        channel: 'sms',
        contactAt: hoursFromNow(i < 4 ? -2 : -1),
        step: 'sms-1d',
        region: 'northeast',
      });
      (inHawaii ? deferred : sent).push(id);
    }
    const summary = await runReminders(app, workers, c.alias, now, {
      ...regionsOnly,
      pageSize: 2,
      pagesPerRun: 2,
    });
    expect(summary.regions[0]!.screened).toMatchObject({ seen: 7, deferred: 3, ready: { sms: 4 } });
    expect(summary.regions[0]!.sent.sms).toMatchObject({ sent: 4 });
    expect(await outboxCount(app.sql, sent)).toBe(4);
    expect(await outboxCount(app.sql, deferred)).toBe(0);

    // 7 messages in pages of 2, 2 pages per run: the region child continued as new at least once
    const client = await app.client();
    const runs = await eventually(async () => {
      const found: string[] = [];
      for await (const w of client.workflow.list({
        query: `CompanyAlias = '${c.alias}' AND WorkflowType = 'reminderRegion'`,
      }))
        found.push(w.runId);
      return found.length >= 2 ? found : undefined;
    }, 30_000);
    expect(new Set(runs).size).toBeGreaterThanOrEqual(2);
  });
});
