// Test helpers for reminder runs: people with appointments and planned touches, workers for the run, its regions and the outbox.
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../activities';
import type { App } from '../../lib/app';
import type { Sql } from '../../lib/db';
import { regionTaskQueue, SA, WORKFLOW_IDS } from '../../lib/names';
import { listActiveAccounts, type ProviderAccount } from '../../lib/providers/accounts';
import { reminderRun } from '../../workflows';
import type { ReminderRunSummary } from '../../workflows/reminder-run';
import { startSendWorkers } from './dispatch';
import { startTestWorker, testActivities } from './harness';

export interface Person {
  contactId: number;
  appointmentId: number;
  phone: string;
}

let serial = 0;

/** A contact with one appointment; the phone is unique per call so replies find exactly this person. */
export async function addPerson(
  sql: Sql,
  companyId: number,
  opts: {
    state: string;
    timezone: string;
    region: string;
    appointmentAt: Date;
    areaCode?: string;
    email?: string;
  },
): Promise<Person> {
  const phone = `+1${opts.areaCode ?? '212'}${String(5_000_000 + (Date.now() % 1_000_000) * 3 + ++serial).slice(-7)}`;
  const [contact] = await sql<{ id: number }[]>`
    insert into contacts (company_id, dedupe_key, first_name, last_name, phone_e164, email, timezone, state, region)
    values (${companyId}, ${randomUUID()}, 'Ann', 'Lee', ${phone}, ${opts.email ?? null}, ${opts.timezone}, ${opts.state}, ${opts.region})
    returning id`;
  const [appointment] = await sql<{ id: number }[]>`
    insert into appointments (company_id, contact_id, dedupe_key, starts_at)
    values (${companyId}, ${contact!.id}, ${randomUUID()}, ${opts.appointmentAt})
    returning id`;
  return { contactId: contact!.id, appointmentId: appointment!.id, phone };
}

/** A New Yorker (northeast) whose appointment is a day from now: the person the ingress tests message. */
export function addNewYorker(sql: Sql, companyId: number, opts: { email?: string } = {}): Promise<Person> {
  return addPerson(sql, companyId, {
    state: 'NY',
    timezone: 'America/New_York',
    region: 'northeast',
    appointmentAt: new Date(Date.now() + 86_400_000),
    ...opts,
  });
}

/** One touch of the person's reminder plan, as the reminder run makes it when due (appointment, step, expiry). */
export async function planTouch(
  sql: Sql,
  companyId: number,
  person: Person,
  opts: {
    channel: 'sms' | 'voice' | 'email';
    contactAt: Date;
    step: string;
    region: string;
    expiresAt?: Date;
  },
): Promise<number> {
  const [appointment] = await sql<
    { starts_at: Date }[]
  >`select starts_at from appointments where id = ${person.appointmentId}`;
  const [row] = await sql<{ id: number }[]>`
    insert into messages (company_id, contact_id, appointment_id, channel, template_name, plan_step, data, contact_at, expires_at, region)
    values (${companyId}, ${person.contactId}, ${person.appointmentId}, ${opts.channel}, 'appointment_reminder', ${opts.step},
            ${sql.json({ first_name: 'ann', appointment_date: appointment!.starts_at.toISOString() })}, ${opts.contactAt},
            ${opts.expiresAt ?? appointment!.starts_at}, ${opts.region})
    returning id`;
  return row!.id;
}

/** 17:00Z on a winter day at least `daysAhead` days from now: 12:00 EST in New York, 07:00 HST in Honolulu. */
export function winterNoonInNewYork(daysAhead = 3): Date {
  const d = new Date(Date.now() + daysAhead * 86_400_000);
  while (![11, 0, 1].includes(d.getUTCMonth())) d.setUTCDate(d.getUTCDate() + 1);
  d.setUTCHours(17, 0, 0, 0);
  return d;
}

/** A run's clock for a test file: its `now` (a winter noon in New York) and the time `h` hours from it. */
export function reminderClock(): { now: Date; hoursFromNow: (h: number) => Date } {
  const now = winterNoonInNewYork();
  return { now, hoursFromNow: (h) => new Date(now.getTime() + h * 3_600_000) };
}

/** Where the people of the reminder tests live; each region has its own area code, so phones stay unique. */
export const newYorker = { state: 'NY', timezone: 'America/New_York', region: 'northeast' };
export const floridian = { state: 'FL', timezone: 'America/New_York', region: 'southeast', areaCode: '305' };
export const hawaiian = { state: 'HI', timezone: 'Pacific/Honolulu', region: 'pacific', areaCode: '808' };

export interface ReminderWorkers {
  taskQueue: string;
  activities: Activities;
  stop(): Promise<void>;
}

/** The run's queue, the given regions' queues and the outbox accounts' send queues, all in this process. */
export async function startReminderWorkers(
  app: App,
  regions: string[],
  extraAccounts: ProviderAccount[] = [],
  activities: Activities = testActivities(app),
): Promise<ReminderWorkers> {
  const main = await startTestWorker(app, { activities });
  const regionWorkers = await Promise.all(
    regions.map((r) => startTestWorker(app, { activities, taskQueue: regionTaskQueue(r) })),
  );
  const accounts = [
    ...(await listActiveAccounts(app.sql)).filter((a) => a.key.startsWith('outbox-')),
    ...extraAccounts,
  ];
  const senders = await startSendWorkers(app, accounts, activities);
  return {
    taskQueue: main.taskQueue,
    activities,
    stop: async () => {
      await senders.stop();
      await Promise.all(regionWorkers.map((w) => w.stop()));
      await main.stop();
    },
  };
}

export async function runReminders(
  app: App,
  workers: ReminderWorkers,
  companyAlias: string,
  now: Date,
  paging: { pageSize?: number; pagesPerRun?: number; firstPage?: number } = {},
): Promise<ReminderRunSummary> {
  const client = await app.client();
  return client.workflow.execute(reminderRun, {
    taskQueue: workers.taskQueue,
    workflowId: WORKFLOW_IDS.reminderRun(companyAlias, `${now.toISOString()}-${randomUUID().slice(0, 6)}`),
    args: [{ companyAlias, now: now.toISOString(), ...paging }],
    // as the schedule and the CLI start runs, so the Web UI finds them by company
    typedSearchAttributes: [{ key: SA.CompanyAlias, value: companyAlias }],
  });
}

export async function messageRow(sql: Sql, id: number) {
  const [row] = await sql<
    {
      state: string;
      status_description: string | null;
      contact_at: Date;
      planned_contact_at: Date | null;
      deferrals: number;
      contact_status: string | null;
      raw_response: string | null;
      uuid: string;
      provider_message_id: string | null;
    }[]
  >`select state, status_description, contact_at, planned_contact_at, deferrals, contact_status, raw_response, uuid, provider_message_id
    from messages where id = ${id}`;
  return row!;
}

export async function outboxCount(sql: Sql, messageIds: number[]): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from outbox_messages o join messages m on m.uuid = o.message_uuid where m.id in ${sql(messageIds)}`;
  return row!.n;
}
