// kill -9 of the worker while a reminder run makes the messages of the plan steps that fell due (the
// planning an ingest once did): a new worker runs it again, and each step has exactly one message.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { DateTime } from 'luxon';
import { WORKFLOW_IDS } from '../../../lib/names';
import { reminderRun } from '../../../workflows';
import { createTestCompany } from '../../support/ingest';
import type { ChaosCounts, ChaosScenario } from '../support/counts';
import { waitingFor } from '../support/waits';
import { startChaosWorker, type ChaosWorker } from '../support/workers';
import { chaosWorld, volume, type ChaosWorld } from '../support/world';

const ZONE = 'America/New_York';
const PLAN = [
  { step: 'sms-2d', channel: 'sms', offset: { days: -2 }, at: '10:00' },
  { step: 'sms-1d', channel: 'sms', offset: { days: -1 }, at: '10:00' },
];

export const scenario: ChaosScenario = {
  name: 'reminders-worker-killed',
  short: true,
  timeoutSeconds: 300,
  async run() {
    const world = await chaosWorld();
    const appointments = volume(10_000, 100_000);
    const company = await createTestCompany(
      { sql: world.sql },
      { prefix: 'chaos', settings: { reminderPlan: PLAN } },
    );
    // appointments at 15:00 six days on; the run's clock at 10:30 the day before: both steps are due
    const startsAt = DateTime.now()
      .setZone(ZONE)
      .plus({ days: 6 })
      .set({ hour: 15, minute: 0, second: 0, millisecond: 0 });
    const now = startsAt.minus({ days: 1 }).set({ hour: 10, minute: 30 }).toJSDate();
    await world.sql`
      with people as (
        insert into contacts (company_id, dedupe_key, first_name, last_name, phone_e164, timezone, state, region)
        select ${company.id}, 'c' || i, 'Ann', 'Lee', '+1617' || lpad(i::text, 7, '0'), ${ZONE}, 'MA', 'northeast'
        from generate_series(1, ${appointments}) i
        returning id, dedupe_key
      )
      insert into appointments (company_id, contact_id, dedupe_key, starts_at, timezone)
      select ${company.id}, id, 'a' || dedupe_key, ${startsAt.toJSDate()}, ${ZONE} from people`;

    const queue = `chaos-${randomUUID()}`;
    const worker = () => startChaosWorker(world, { queue, accounts: [] });
    const workers: ChaosWorker[] = [await worker()];
    const handle = await world.client.workflow.start(reminderRun, {
      taskQueue: queue,
      workflowId: WORKFLOW_IDS.reminderRun(company.alias, randomUUID()),
      args: [{ companyAlias: company.alias, now: now.toISOString() }],
    });
    try {
      await whileMakingMessages(world, workers[0]!);
      await workers[0]!.kill();
      workers.push(await worker());
      // the run is past making messages once it runs its regions (no worker hosts them here: the
      // sending is the send scenarios' part); it is ended there
      waitingFor(`reminder run ${handle.workflowId} to make its messages after the kill`);
      const made = await Promise.race([pastMakingMessages(handle), ...workers.slice(1).map((w) => w.died)]);
      return await measure(world, company.id, appointments * PLAN.length, made);
    } finally {
      await handle.terminate('the fault scenario measured what it made').catch(() => undefined);
      for (const w of workers) await w.stop();
    }
  },
};

/** Resolves while the worker's insert of the due messages runs in Postgres, so the kill lands in it. */
async function whileMakingMessages(world: ChaosWorld, worker: ChaosWorker): Promise<void> {
  waitingFor('the reminder run to be inserting its due messages');
  for (;;) {
    // a backend that holds the insert's lock on messages and has a transaction id is writing rows
    // (pg_stat_activity cuts the statement's text at 1 kB); killed now, the worker leaves a statement
    // that commits without it, and the next worker's run must not make those steps again
    const [inserting] = await world.sql<{ n: number }[]>`
      select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.relation = 'messages'::regclass and l.mode = 'RowExclusiveLock' and a.state = 'active'
        and a.backend_xid is not null and a.pid <> pg_backend_pid()`;
    if (inserting!.n > 0) return;
    await Promise.race([new Promise((r) => setTimeout(r, 20)), worker.died]);
  }
}

/**
 * Whether the run got past making messages: it starts its regions' children then. Read from the server
 * (a query would wait for a worker, and the killed one's sticky queue has none).
 */
async function pastMakingMessages(handle: WorkflowHandle<typeof reminderRun>): Promise<boolean> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const { raw } = await handle.describe();
    if ((raw.pendingChildren ?? []).length > 0) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Each due step of each appointment has one message, made for this company. */
async function measure(
  world: ChaosWorld,
  companyId: number,
  due: number,
  made: boolean,
): Promise<ChaosCounts> {
  const [m] = await world.sql<{ steps: number; extra: number; foreign: number }[]>`
    select count(distinct (m.appointment_id, m.plan_step, m.appointment_at))::int as steps,
           (count(*) - count(distinct (m.appointment_id, m.plan_step, m.appointment_at)))::int as extra,
           count(*) filter (where m.company_id <> a.company_id)::int as foreign
    from appointments a join messages m on m.appointment_id = a.id
    where a.company_id = ${companyId} and m.state <> 'cancelled'`;
  return {
    duplicates: m!.extra + Math.max(0, m!.steps - due),
    lost: Math.max(0, due - m!.steps),
    wrong_tenant: m!.foreign,
    stuck: made ? 0 : 1,
  };
}
