// Reminder planning: local times of day, never in the past, re-planning moved and cancelled appointments, full refresh.
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { loadPacketContext } from '../lib/ingest/packet-context';
import { planPacketMessages } from '../lib/ingest/plan-messages';
import { eventually, type TestWorker } from './support/harness';
import { useWorkerEnv } from './support/worker-env';
import {
  createTestCompany,
  csv,
  daysFromNow,
  EHR_HEADER,
  ingestFile,
  type TestCompany,
} from './support/ingest';

let app: App;
let worker: TestWorker;

useWorkerEnv((env) => ({ app, worker } = env));

const appointment = (id: string, date: string, time: string, extra: Partial<Record<string, string>> = {}) =>
  EHR_HEADER.map(
    (h) =>
      ({
        'Patient ID': 'P1',
        'First Name': 'Ann',
        'Last Name': 'Lee',
        'Cell Phone': '4155550101',
        Email: 'ann@example.com',
        'Appt Date': date,
        'Appt Time': time,
        'Appointment ID': id,
        State: 'CA',
        ...extra,
      })[h] ?? '',
  );

interface Planned {
  appointment: string;
  plan_step: string;
  channel: string;
  state: string;
  contact_at: Date;
  status_description: string | null;
}

async function messagesOf(company: TestCompany): Promise<Planned[]> {
  return app.sql<Planned[]>`
    select a.external_id as appointment, m.plan_step, m.channel, m.state, m.contact_at, m.status_description
    from messages m join appointments a on a.id = m.appointment_id
    where m.company_id = ${company.id} order by a.external_id, m.state, m.contact_at`;
}

/** The wall-clock date and time of an instant in a zone, as the EHR file writes them. */
function localParts(instant: Date, timeZone: string): { date: string; time: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return { date: `${parts.month}/${parts.day}/${parts.year}`, time: `${parts.hour}:${parts.minute}` };
}

describe('message planning', () => {
  it("plans each step at its local time of day in the contact's zone, with the company's own plan", async () => {
    const company = await createTestCompany(app, {
      prefix: 'plan',
      timezone: 'America/New_York',
      settings: {
        reminderPlan: [
          {
            step: 'email-3d',
            channel: 'email',
            template: 'appointment_reminder',
            offset: { days: -3 },
            at: '09:30',
          },
          { step: 'sms-1h', channel: 'sms', offset: { hours: -1 } },
        ],
      },
    });
    const day = daysFromNow(10);
    await ingestFile(
      app,
      worker.taskQueue,
      company,
      'plan.csv',
      csv(EHR_HEADER, [appointment('A1', day, '15:00')]),
    );
    const messages = await messagesOf(company);
    expect(messages.map((m) => `${m.plan_step} ${m.channel} ${m.state}`)).toEqual([
      'email-3d email scheduled',
      'sms-1h sms scheduled',
    ]);
    // the contact lives in California (state CA): 09:30 Los Angeles time three days before
    const email = localParts(messages[0]!.contact_at, 'America/Los_Angeles');
    expect(email.time).toBe('09:30');
    const [appt] = await app.sql<
      { starts_at: Date }[]
    >`select starts_at from appointments where company_id = ${company.id}`;
    expect(messages[1]!.contact_at.getTime()).toBe(appt!.starts_at.getTime() - 3_600_000);
    expect(appt!.starts_at.getTime() - messages[0]!.contact_at.getTime()).toBeGreaterThan(2 * 86_400_000);
  });

  it('never plans into the past: an appointment three hours away gets only the two-hour text', async () => {
    const company = await createTestCompany(app, { prefix: 'soon', timezone: 'America/New_York' });
    const { date, time } = localParts(new Date(Date.now() + 3 * 3_600_000), 'America/New_York');
    const past = localParts(new Date(Date.now() - 86_400_000), 'America/New_York');
    await ingestFile(
      app,
      worker.taskQueue,
      company,
      'soon.csv',
      csv(EHR_HEADER, [
        appointment('A1', date, time, { State: 'NY' }),
        appointment('A2', past.date, past.time, { 'Patient ID': 'P2', State: 'NY' }),
      ]),
    );
    const messages = await messagesOf(company);
    expect(messages.map((m) => `${m.appointment} ${m.plan_step}`)).toEqual(['A1 sms-2h']);
    expect(messages.every((m) => m.contact_at.getTime() > Date.now())).toBe(true);
  });

  it('re-plans an appointment a later file moves, and cancels the reminders of one it cancels', async () => {
    const company = await createTestCompany(app, { prefix: 'move' });
    const first = csv(EHR_HEADER, [
      appointment('A1', daysFromNow(6), '10:00'),
      appointment('A2', daysFromNow(6), '11:00', { 'Patient ID': 'P2' }),
    ]);
    await ingestFile(app, worker.taskQueue, company, 'day1.csv', first);
    expect((await messagesOf(company)).filter((m) => m.state === 'scheduled')).toHaveLength(6);

    const second = csv(EHR_HEADER, [
      appointment('A1', daysFromNow(9), '10:00'),
      appointment('A2', daysFromNow(6), '11:00', { 'Patient ID': 'P2', Status: 'Cancelled by patient' }),
    ]);
    const { summary } = await ingestFile(app, worker.taskQueue, company, 'day2.csv', second);
    expect(summary.stage).toBe('done');
    const messages = await messagesOf(company);
    const a1 = messages.filter((m) => m.appointment === 'A1');
    expect(a1.filter((m) => m.state === 'cancelled').map((m) => m.status_description)).toEqual(
      Array(3).fill('the appointment moved; new reminders were planned'),
    );
    expect(a1.filter((m) => m.state === 'scheduled')).toHaveLength(3);
    const a2 = messages.filter((m) => m.appointment === 'A2');
    expect(a2.map((m) => `${m.state}: ${m.status_description}`)).toEqual(
      Array(3).fill('cancelled: the appointment was cancelled'),
    );
    const [status] = await app.sql<
      { status: string }[]
    >`select status from appointments where company_id = ${company.id} and external_id = 'A2'`;
    expect(status!.status).toBe('cancelled');
  });

  it('plans a packet again without a duplicate when another planning commits one of its steps first', async () => {
    const company = await createTestCompany(app, { prefix: 'race' });
    const { packet } = await ingestFile(
      app,
      worker.taskQueue,
      company,
      'race.csv',
      csv(EHR_HEADER, [
        appointment('A1', daysFromNow(6), '10:00'),
        appointment('A2', daysFromNow(6), '11:00', { 'Patient ID': 'P2' }),
      ]),
    );
    // as if both appointments had moved: nothing pending, so planning again inserts without ON CONFLICT
    await app.sql`update messages set state = 'cancelled' where company_id = ${company.id}`;
    // another planning of the packet has written A1's two-day text and not committed yet
    let commitTheirs!: () => void;
    const committing = new Promise<void>((resolve) => (commitTheirs = resolve));
    let theirPid: number | undefined;
    const theirs = app.sql.begin(async (tx) => {
      const [row] = await tx<{ id: number; pid: number }[]>`
        insert into messages (company_id, contact_id, appointment_id, packet_id, channel, template_name, plan_step,
                              contact_at, expires_at, region)
        select a.company_id, a.contact_id, a.id, ${packet.id}, 'sms', 'appointment_reminder', 'sms-2d',
               a.starts_at - interval '2 days', a.starts_at, c.region
        from appointments a join contacts c on c.id = a.contact_id
        where a.company_id = ${company.id} and a.external_id = 'A1'
        returning id, pg_backend_pid() as pid`;
      theirPid = row!.pid;
      await committing;
      return row!.id;
    });
    await eventually(async () => theirPid);
    const planning = planPacketMessages(app.sql, await loadPacketContext(app.sql, packet.uuid), 2);
    // planning's insert of the same step waits for theirs to commit or roll back
    await eventually(async () => {
      const [waiting] = await app.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where ${theirPid!} = any(pg_blocking_pids(pid))`;
      return waiting!.n > 0 || undefined;
    });
    commitTheirs();
    const theirId = await theirs;
    await planning;
    const pending = await app.sql<{ id: number; appointment: string; plan_step: string }[]>`
      select m.id, a.external_id as appointment, m.plan_step
      from messages m join appointments a on a.id = m.appointment_id
      where m.company_id = ${company.id} and m.state = 'scheduled' order by a.external_id, m.plan_step`;
    expect(pending.map((m) => `${m.appointment} ${m.plan_step}`)).toEqual([
      'A1 sms-2d',
      'A1 sms-2h',
      'A1 voice-1d',
      'A2 sms-2d',
      'A2 sms-2h',
      'A2 voice-1d',
    ]);
    expect(pending[0]!.id).toBe(theirId);
  });

  it('cancels the pending reminders of appointments a full-refresh feed no longer lists', async () => {
    const company = await createTestCompany(app, { prefix: 'full' });
    const [source] = await app.sql<{ id: number }[]>`
      insert into data_ingest_sources (company_id, name, kind, config, load_map_name, refresh_mode)
      values (${company.id}, 'nightly', 'upload', '{}', 'ehr', 'full_refresh') returning id`;
    const [appendSource] = await app.sql<{ id: number }[]>`
      insert into data_ingest_sources (company_id, name, kind, config, load_map_name)
      values (${company.id}, 'adhoc', 'upload', '{}', 'ehr') returning id`;
    const day = daysFromNow(8);
    await ingestFile(
      app,
      worker.taskQueue,
      company,
      'n1.csv',
      csv(EHR_HEADER, [
        appointment('A1', day, '10:00'),
        appointment('A2', day, '11:00', { 'Patient ID': 'P2' }),
      ]),
      { sourceId: source!.id },
    );
    await ingestFile(
      app,
      worker.taskQueue,
      company,
      'adhoc.csv',
      csv(EHR_HEADER, [appointment('A3', day, '12:00', { 'Patient ID': 'P3' })]),
      { sourceId: appendSource!.id },
    );
    const { summary } = await ingestFile(
      app,
      worker.taskQueue,
      company,
      'n2.csv',
      csv(EHR_HEADER, [appointment('A1', day, '10:00')]),
      { sourceId: source!.id },
    );
    expect(summary.stage).toBe('done');
    const messages = await messagesOf(company);
    const byAppointment = (id: string) => messages.filter((m) => m.appointment === id).map((m) => m.state);
    expect(byAppointment('A1')).toEqual(['scheduled', 'scheduled', 'scheduled']);
    expect(byAppointment('A2')).toEqual(['cancelled', 'cancelled', 'cancelled']);
    // another feed's appointments are not this feed's to drop
    expect(byAppointment('A3')).toEqual(['scheduled', 'scheduled', 'scheduled']);
    expect(messages.find((m) => m.appointment === 'A2')!.status_description).toBe(
      'the appointment is no longer in the full-refresh feed nightly',
    );
  });
});
