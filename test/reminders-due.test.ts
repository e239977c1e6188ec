// Reminder messages come into being when their step falls due: at its local time, never for a passed appointment, once per appointment time, again for a moved one.
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { createDueMessages } from '../lib/messages/create-due';
import { loadCompanyPlan } from '../lib/messages/due-steps';
import { upcomingReminders } from '../lib/messages/upcoming';
import { stopSequences } from '../lib/reminders/consent';
import type { TransactionSql } from '../lib/db';
import { eventually, openTestApp } from './support/harness';
import {
  createTestCompany,
  csv,
  daysFromNow,
  EHR_HEADER,
  ingestFile,
  type TestCompany,
} from './support/ingest';
import { runReminders, startReminderWorkers, type ReminderWorkers } from './support/reminders';

let app: App;
let workers: ReminderWorkers;

beforeAll(async () => {
  app = await openTestApp();
  workers = await startReminderWorkers(app, ['northeast', 'pacific']);
});
afterAll(async () => {
  await workers?.stop();
  await app?.close();
});

const appointment = (id: string, date: string, time: string, extra: Partial<Record<string, string>> = {}) =>
  EHR_HEADER.map(
    (h) =>
      ({
        'Patient ID': 'P1',
        'First Name': 'Ann',
        'Last Name': 'Lee',
        'Cell Phone': '6175550101',
        Email: 'ann@example.com',
        'Appt Date': date,
        'Appt Time': time,
        'Appointment ID': id,
        State: 'MA',
        ...extra,
      })[h] ?? '',
  );

async function company(prefix: string, reminderPlan: unknown[]): Promise<TestCompany> {
  const c = await createTestCompany(app, { prefix, settings: { reminderPlan } });
  // what the global templates and the email sender need of a company
  await app.sql`
    update companies set phone_number = '+16175550100', email_from = 'reminders@harbor.example'
    where id = ${c.id}`;
  await app.sql`insert into credit_ledger (company_id, kind, credits, note) values (${c.id}, 'purchase', 100, 'test credits')`;
  return c;
}

async function load(c: TestCompany, name: string, rows: string[][], sourceId?: number) {
  const { summary } = await ingestFile(app, workers.taskQueue, c, name, csv(EHR_HEADER, rows), { sourceId });
  expect(summary.stage).toBe('done');
}

interface Made {
  id: number;
  appointment: string;
  plan_step: string;
  channel: string;
  template_name: string;
  state: string;
  status_description: string | null;
  contact_at: Date;
  appointment_at: Date;
  data: Record<string, unknown>;
}

async function messagesOf(c: TestCompany): Promise<Made[]> {
  return app.sql<Made[]>`
    select m.id, a.external_id as appointment, m.plan_step, m.channel, m.template_name, m.state, m.status_description,
           m.contact_at, m.appointment_at, m.data
    from messages m join appointments a on a.id = m.appointment_id
    where m.company_id = ${c.id} order by a.external_id, m.appointment_at, m.contact_at`;
}

async function appointmentOf(c: TestCompany, id: string) {
  const [row] = await app.sql<{ id: number; starts_at: Date; timezone: string }[]>`
    select a.id, a.starts_at, ct.timezone from appointments a join contacts ct on ct.id = a.contact_id
    where a.company_id = ${c.id} and a.external_id = ${id}`;
  return row!;
}

/** A step's due time worked out here on its own: `days` before the appointment's local date, at `at` in `zone`. */
function localStep(startsAt: Date, zone: string, days: number, at: string): Date {
  const [hour, minute] = at.split(':').map(Number);
  return DateTime.fromJSDate(startsAt, { zone })
    .startOf('day')
    .plus({ days })
    .set({ hour, minute })
    .toJSDate();
}

const plus = (at: Date, minutes: number) => new Date(at.getTime() + minutes * 60_000);

describe('reminder messages come into being when their step falls due', () => {
  it("makes a step's message at its local time of day in the recipient's zone, and not a minute before", async () => {
    const c = await company('due', [
      {
        step: 'email-3d',
        channel: 'email',
        template: 'appointment_reminder',
        offset: { days: -3 },
        at: '09:30',
      },
      { step: 'sms-1h', channel: 'sms', offset: { hours: -1 } },
    ]);
    // a Californian: 09:30 Los Angeles time, not the company's New York time
    await load(c, 'due.csv', [appointment('A1', daysFromNow(10), '15:00', { State: 'CA', Zip: '94110' })]);
    const a1 = await appointmentOf(c, 'A1');
    expect(a1.timezone).toBe('America/Los_Angeles');
    const emailDue = localStep(a1.starts_at, 'America/Los_Angeles', -3, '09:30');
    expect(a1.starts_at.getTime() - emailDue.getTime()).toBeGreaterThan(2 * 86_400_000);

    // nothing is written ahead: the operator sees it computed
    const plan = (await loadCompanyPlan(app.sql, c.id))!;
    const upcoming = await upcomingReminders(app.sql, plan, {
      from: new Date().toISOString(),
      to: a1.starts_at.toISOString(),
      now: new Date().toISOString(),
      limit: 10,
    });
    expect(upcoming.map((u) => [u.step, u.at.toISOString(), u.status])).toEqual([
      ['email-3d', emailDue.toISOString(), 'to come'],
      ['sms-1h', plus(a1.starts_at, -60).toISOString(), 'to come'],
    ]);
    expect(await messagesOf(c)).toEqual([]);

    const early = await runReminders(app, workers, c.alias, plus(emailDue, -1));
    expect(early.created).toBe(0);
    expect(await messagesOf(c)).toEqual([]);

    const due = await runReminders(app, workers, c.alias, emailDue);
    expect(due.created).toBe(1);
    const [email] = await messagesOf(c);
    expect(email).toMatchObject({
      appointment: 'A1',
      plan_step: 'email-3d',
      channel: 'email',
      template_name: 'appointment_reminder',
      state: 'sent',
      contact_at: emailDue,
      appointment_at: a1.starts_at,
      data: {
        first_name: 'Ann',
        last_name: 'Lee',
        appointment_date: a1.starts_at.toISOString().replace('.000', ''),
      },
    });
    // the runs (the second sent its one message itself, with no region child) are found by company,
    // as the Web UI finds them
    const client = await app.client();
    const found = await eventually(async () => {
      const types: string[] = [];
      for await (const w of client.workflow.list({ query: `CompanyAlias = '${c.alias}'` }))
        types.push(w.type);
      return types.filter((t) => t === 'reminderRun').length === 2 ? types : undefined;
    });
    expect(found).not.toContain('dispatchMessages');
    expect(found).not.toContain('reminderRegion');
  });

  it('never makes one for an appointment that has passed, nor sends late a step that had passed when the file came', async () => {
    const c = await company('soon', [
      { step: 'sms-2d', channel: 'sms', offset: { days: -2 }, at: '10:00' },
      { step: 'sms-2h', channel: 'sms', offset: { hours: -2 } },
    ]);
    const local = (at: Date) => DateTime.fromJSDate(at, { zone: 'America/New_York' });
    const soon = local(new Date(Date.now() + 3 * 3_600_000));
    const gone = local(new Date(Date.now() - 86_400_000));
    await load(c, 'soon.csv', [
      appointment('A1', soon.toFormat('MM/dd/yyyy'), soon.toFormat('HH:mm')),
      appointment('A2', gone.toFormat('MM/dd/yyyy'), gone.toFormat('HH:mm'), { 'Patient ID': 'P2' }),
    ]);
    const a1 = await appointmentOf(c, 'A1');
    // two days before, the two-day text had long passed when the file came: only the two-hour text
    await runReminders(app, workers, c.alias, plus(a1.starts_at, -119));
    expect((await messagesOf(c)).map((m) => `${m.appointment} ${m.plan_step}`)).toEqual(['A1 sms-2h']);
    // once the appointment has passed nothing more comes, whatever was due before
    const after = await runReminders(app, workers, c.alias, plus(a1.starts_at, 1));
    expect(after.created).toBe(0);
    expect(await messagesOf(c)).toHaveLength(1);
  });

  it('makes each step once however often a run is retried and however runs overlap', async () => {
    const c = await company('once', [
      { step: 'sms-2d', channel: 'sms', offset: { days: -2 }, at: '10:00' },
      { step: 'email-1d', channel: 'email', offset: { days: -1 }, at: '10:00' },
    ]);
    const rows = Array.from({ length: 20 }, (_, i) =>
      appointment(`A${i}`, daysFromNow(6), '15:00', { 'Patient ID': `P${i}` }),
    );
    await load(c, 'once.csv', rows);
    const a0 = await appointmentOf(c, 'A0');
    const now = localStep(a0.starts_at, a0.timezone, -1, '10:30');
    const plan = (await loadCompanyPlan(app.sql, c.id))!;

    // another run has written A0's two-day text and not committed yet
    let commitTheirs!: () => void;
    const committing = new Promise<void>((resolve) => (commitTheirs = resolve));
    let theirPid: number | undefined;
    const theirs = app.sql.begin(async (tx) => {
      const [row] = await tx<{ id: number; pid: number }[]>`
        insert into messages (company_id, contact_id, appointment_id, channel, template_name, plan_step,
                              appointment_at, data, contact_at, expires_at, region)
        select a.company_id, a.contact_id, a.id, 'sms', 'appointment_reminder', 'sms-2d', a.starts_at,
               jsonb_build_object('first_name', 'Ann', 'appointment_date', a.starts_at),
               a.starts_at - interval '2 days', a.starts_at, c.region
        from appointments a join contacts c on c.id = a.contact_id
        where a.company_id = ${c.id} and a.external_id = 'A0'
        returning id, pg_backend_pid() as pid`;
      theirPid = row!.pid;
      await committing;
      return row!.id;
    });
    await eventually(async () => theirPid);
    // two runs at once (and one of them retried) while theirs is open: they wait for it
    const runIds = ['run-a', 'run-b', 'run-a'];
    const runs = runIds.map((runId) => createDueMessages(app.sql, plan, now.toISOString(), runId));
    await eventually(async () => {
      const [waiting] = await app.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where ${theirPid!} = any(pg_blocking_pids(pid))`;
      return waiting!.n > 0 || undefined;
    });
    commitTheirs();
    const theirId = await theirs;
    const made = await Promise.all(runs);
    expect(made.reduce((n, r) => n + r.created, 0)).toBe(39);
    // the retried run's count is both its attempts' together, the other run's its own
    const [a1, b, a2] = made;
    expect(Math.max(a1!.runCreated, a2!.runCreated)).toBe(a1!.created + a2!.created);
    expect(b!.runCreated).toBe(b!.created);

    const messages = await messagesOf(c);
    expect(messages).toHaveLength(40);
    const keys = messages.map((m) => `${m.appointment} ${m.plan_step} ${m.appointment_at.toISOString()}`);
    expect(new Set(keys).size).toBe(40);
    expect(messages.find((m) => m.appointment === 'A0' && m.plan_step === 'sms-2d')!.id).toBe(theirId);
    // the statement also says where scheduled messages are due, those it made and earlier ones alike:
    // a run starts a region for each
    const dueNow = await createDueMessages(app.sql, plan, now.toISOString(), 'run-c');
    expect(dueNow.created).toBe(0);
    expect(dueNow.due.reduce((n, r) => n + r.due, 0)).toBe(40);
    expect([...new Set(dueNow.due.flatMap((r) => r.channels))].sort()).toEqual(['email', 'sms']);
    // a whole run again, as a retried workflow would: nothing new, nothing sent twice
    const again = await runReminders(app, workers, c.alias, now);
    expect(again.created).toBe(0);
    const [outbox] = await app.sql<{ n: number; distinct: number }[]>`
      select count(*)::int as n, count(distinct o.message_uuid)::int as distinct
      from outbox_messages o where o.company_id = ${c.id}`;
    expect(outbox).toEqual({ n: 40, distinct: 40 });
  });

  it('makes nothing for a company whose plan has no steps', async () => {
    const c = await company('none', []);
    await load(c, 'none.csv', [appointment('A1', daysFromNow(2), '15:00')]);
    const plan = (await loadCompanyPlan(app.sql, c.id))!;
    expect(plan.steps).toEqual([]);
    expect(await createDueMessages(app.sql, plan, new Date().toISOString(), 'run-none')).toEqual({
      created: 0,
      runCreated: 0,
      byRegion: {},
      due: [],
    });
  });

  it("makes a moved appointment's steps due again for the new time, saying it moved, and cancels the old time's pending ones", async () => {
    const c = await company('move', [
      {
        step: 'sms-2d',
        channel: 'sms',
        template: 'appointment_reminder',
        movedTemplate: 'appointment_moved',
        offset: { days: -2 },
        at: '10:00',
      },
      // before quiet hours end: made, then deferred to 08:00
      { step: 'sms-early', channel: 'sms', offset: { days: -1 }, at: '07:00' },
    ]);
    await load(c, 'day1.csv', [appointment('A1', daysFromNow(6), '10:00')]);
    const first = await appointmentOf(c, 'A1');
    const zone = first.timezone;
    await runReminders(app, workers, c.alias, localStep(first.starts_at, zone, -2, '10:00'));
    await runReminders(app, workers, c.alias, localStep(first.starts_at, zone, -1, '07:00'));
    expect((await messagesOf(c)).map((m) => `${m.plan_step} ${m.state}`)).toEqual([
      'sms-2d sent',
      'sms-early scheduled',
    ]);

    await load(c, 'day2.csv', [appointment('A1', daysFromNow(9), '10:00')]);
    const moved = await appointmentOf(c, 'A1');
    const run = await runReminders(app, workers, c.alias, localStep(moved.starts_at, zone, -2, '10:00'));
    expect(run.created).toBe(1);
    const messages = await messagesOf(c);
    expect(messages.map((m) => `${m.plan_step} ${m.appointment_at.toISOString()} ${m.state}`)).toEqual([
      `sms-2d ${first.starts_at.toISOString()} sent`,
      `sms-early ${first.starts_at.toISOString()} cancelled`,
      `sms-2d ${moved.starts_at.toISOString()} sent`,
    ]);
    expect(messages[1]!.status_description).toBe(
      `the appointment moved to ${moved.starts_at.toISOString()}; its reminders for the new time are sent instead`,
    );
    expect(messages[2]).toMatchObject({
      template_name: 'appointment_moved',
      data: { previous_appointment_date: first.starts_at.toISOString().replace('.000', '') },
    });
    const [text] = await app.sql<{ body: string }[]>`
      select o.body from outbox_messages o join messages m on m.uuid = o.message_uuid where m.id = ${messages[2]!.id}`;
    expect(text!.body).toMatch(/your appointment has moved to/);
  });

  it('stops the steps of the time a person answered about, and starts them again when the appointment moves', async () => {
    const c = await company('answer', [
      { step: 'sms-2d', channel: 'sms', offset: { days: -2 }, at: '10:00' },
      { step: 'sms-1d', channel: 'sms', offset: { days: -1 }, at: '10:00' },
    ]);
    await load(c, 'a.csv', [appointment('A1', daysFromNow(6), '10:00')]);
    const first = await appointmentOf(c, 'A1');
    await runReminders(app, workers, c.alias, localStep(first.starts_at, first.timezone, -2, '10:00'));
    // the person confirmed: the one-day text of this time is not made
    await app.sql.begin((tx) =>
      stopSequences(tx as TransactionSql, c.id, {
        appointmentIds: [first.id],
        status: 'completed',
        reason: 'the person confirmed',
      }),
    );
    const quiet = await runReminders(
      app,
      workers,
      c.alias,
      localStep(first.starts_at, first.timezone, -1, '10:00'),
    );
    expect(quiet.created).toBe(0);

    await load(c, 'b.csv', [appointment('A1', daysFromNow(9), '10:00')]);
    const moved = await appointmentOf(c, 'A1');
    await runReminders(app, workers, c.alias, localStep(moved.starts_at, moved.timezone, -1, '10:00'));
    expect((await messagesOf(c)).map((m) => `${m.plan_step} ${m.state}`)).toEqual([
      'sms-2d sent',
      'sms-2d sent',
      'sms-1d sent',
    ]);
    const [enrollment] = await app.sql<{ status: string; appointment_at: Date }[]>`
      select status, appointment_at from reminder_enrollments where appointment_id = ${first.id}`;
    expect(enrollment).toEqual({ status: 'active', appointment_at: moved.starts_at });
  });

  it('leaves out appointments a full-refresh feed no longer lists, and cancels their pending ones', async () => {
    const c = await company('full', [
      { step: 'sms-early', channel: 'sms', offset: { days: -1 }, at: '07:00' },
      { step: 'sms-2h', channel: 'sms', offset: { hours: -2 } },
    ]);
    const [nightly] = await app.sql<{ id: number }[]>`
      insert into data_ingest_sources (company_id, name, kind, config, load_map_name, refresh_mode)
      values (${c.id}, 'nightly', 'upload', '{}', 'ehr', 'full_refresh') returning id`;
    const [adhoc] = await app.sql<{ id: number }[]>`
      insert into data_ingest_sources (company_id, name, kind, config, load_map_name)
      values (${c.id}, 'adhoc', 'upload', '{}', 'ehr') returning id`;
    const day = daysFromNow(8);
    await load(
      c,
      'n1.csv',
      [appointment('A1', day, '10:00'), appointment('A2', day, '11:00', { 'Patient ID': 'P2' })],
      nightly!.id,
    );
    await load(c, 'adhoc.csv', [appointment('A3', day, '12:00', { 'Patient ID': 'P3' })], adhoc!.id);
    const a1 = await appointmentOf(c, 'A1');
    // the early texts are made and wait for 08:00
    await runReminders(app, workers, c.alias, localStep(a1.starts_at, a1.timezone, -1, '07:00'));
    expect((await messagesOf(c)).map((m) => `${m.appointment} ${m.plan_step} ${m.state}`)).toEqual([
      'A1 sms-early scheduled',
      'A2 sms-early scheduled',
      'A3 sms-early scheduled',
    ]);

    await load(c, 'n2.csv', [appointment('A1', day, '10:00')], nightly!.id);
    // A1's and A2's two-hour texts are due by then; A2's feed no longer lists it
    await runReminders(app, workers, c.alias, plus((await appointmentOf(c, 'A2')).starts_at, -119));
    const messages = await messagesOf(c);
    expect(messages.map((m) => `${m.appointment} ${m.plan_step} ${m.state}`)).toEqual([
      'A1 sms-early sent',
      'A1 sms-2h sent',
      'A2 sms-early cancelled',
      // another feed's appointment is not this feed's to drop
      'A3 sms-early sent',
    ]);
    expect(messages[2]!.status_description).toBe(
      'the appointment is no longer in the full-refresh feed nightly',
    );
  });
});
