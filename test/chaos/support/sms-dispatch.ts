// A scenario's texts: a company, a Twilio account on the world's stand-in, due messages, the dispatch that sends
// them, and the counts measured afterwards at the stand-in and in the tables.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { WORKFLOW_IDS } from '../../../lib/names';
import type { ProviderAccount } from '../../../lib/providers/accounts';
import { dispatchMessages } from '../../../workflows';
import type { DispatchTotals } from '../../../workflows/dispatch-messages';
import {
  createContacts,
  createTestAccount,
  createTestCompany,
  insertMessages,
  type TestCompany,
} from '../../support/dispatch';
import type { ChaosCounts } from './counts';
import { startChaosWorker, type ChaosWorker } from './workers';
import { chaosWorld as chaosWorldOf, type ChaosWorld } from './world';

export interface SmsRun {
  company: TestCompany;
  account: ProviderAccount;
  messageIds: number[];
  phones: string[];
  /** the workflow queue of this scenario's workers */
  queue: string;
  /** requests the stand-in had recorded before this scenario */
  since: number;
}

/** Texts run at this many a second: a cap the Twilio stand-in and two worker processes keep up with. */
const MAX_PER_SECOND = 20;

/**
 * What a dispatch scenario starts from: the world, and `messages` due texts of a fresh company on a
 * fresh Twilio account that sends them in batches of `batchSize`.
 */
export async function prepareSmsRun(opts: {
  messages: number;
  batchSize: number;
}): Promise<{ world: ChaosWorld; run: SmsRun }> {
  const world = await chaosWorldOf();
  const { sql } = world;
  const company = await createTestCompany(sql, { credits: opts.messages * 10 });
  const account = await createTestAccount(sql, {
    channel: 'sms',
    provider: 'twilio',
    maxPerSecond: MAX_PER_SECOND,
    batchSize: opts.batchSize,
    senders: [{ address: '+16175550143', kind: 'short_code', maxPerSecond: MAX_PER_SECOND }],
  });
  const contacts = await createContacts(sql, company.id, opts.messages);
  const messageIds = await insertMessages(sql, company.id, contacts, 'sms');
  const phones = (
    await sql<{ phone_e164: string }[]>`select phone_e164 from contacts where id in ${sql(contacts)}`
  ).map((r) => r.phone_e164);
  const since = (await world.twilio.requests()).length;
  return { world, run: { company, account, messageIds, phones, queue: `chaos-${randomUUID()}`, since } };
}

/** A worker process hosting the run's workflow queue and its account's send queue; `env` adds to the world's. */
export function startRunWorker(
  world: ChaosWorld,
  run: SmsRun,
  env?: Record<string, string>,
): Promise<ChaosWorker> {
  return startChaosWorker(world, { queue: run.queue, accounts: [run.account.key], env });
}

export function startSmsDispatch(
  world: ChaosWorld,
  run: SmsRun,
): Promise<WorkflowHandle<typeof dispatchMessages>> {
  return world.client.workflow.start(dispatchMessages, {
    taskQueue: run.queue,
    workflowId: WORKFLOW_IDS.dispatch(run.company.alias, 'sms', randomUUID()),
    args: [
      {
        companyId: run.company.id,
        companyAlias: run.company.alias,
        channel: 'sms',
        accountKey: run.account.key,
        dueBefore: new Date().toISOString(),
      },
    ],
  });
}

/** Texts of this run the stand-in accepted, per recipient. */
async function acceptedPerPhone(world: ChaosWorld, run: SmsRun): Promise<Map<string, number>> {
  const phones = new Set(run.phones);
  const counts = new Map<string, number>();
  for (const r of await world.twilio.requests(run.since)) {
    const to = String(r.form.To ?? '');
    if (r.method === 'POST' && r.resource === 'Messages' && r.answered < 300 && phones.has(to))
      counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}

/** How many of this run's texts the stand-in has accepted so far. */
export async function acceptedSoFar(world: ChaosWorld, run: SmsRun): Promise<number> {
  let n = 0;
  for (const c of (await acceptedPerPhone(world, run)).values()) n += c;
  return n;
}

/** Waits until the stand-in accepted at least `n` of this run's texts. */
export async function whenAccepted(
  world: ChaosWorld,
  run: SmsRun,
  n: number,
  timeoutMs = 300_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await acceptedSoFar(world, run)) < n) {
    if (Date.now() > deadline) throw new Error(`the stand-in did not get ${n} texts in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The dispatch's totals, failing the scenario when it does not finish in time. */
export async function finished(
  handle: WorkflowHandle<typeof dispatchMessages>,
  timeoutMs = 600_000,
): Promise<DispatchTotals> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      handle.result(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`dispatch ${handle.workflowId} ran past ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every message of the run should have gone out once: counted at the stand-in, in messages and in the ledger. */
export async function measureSmsRun(world: ChaosWorld, run: SmsRun): Promise<ChaosCounts> {
  const { sql } = world;
  const accepted = await acceptedPerPhone(world, run);
  const rows = await sql<{ to: string; state: string; debits: number }[]>`
    select c.phone_e164 as to, m.state,
           (select count(*)::int from credit_ledger l where l.message_id = m.id and l.kind = 'debit') as debits
    from messages m join contacts c on c.id = m.contact_id
    where m.company_id = ${run.company.id} and m.id in ${sql(run.messageIds)}`;
  const [credit] = await sql<{ reserved: string }[]>`
    select reserved from credit_accounts where company_id = ${run.company.id}`;
  const counts: ChaosCounts = { duplicates: 0, lost: 0, wrong_tenant: 0, stuck: 0 };
  for (const row of rows) {
    const n = accepted.get(row.to) ?? 0;
    counts.duplicates += Math.max(0, n - 1) + Math.max(0, row.debits - 1);
    if (n === 0) counts.lost++;
    else if (
      row.state !== 'sent' &&
      row.state !== 'scheduled' &&
      row.state !== 'sending' &&
      row.state !== 'unknown'
    )
      counts.lost++; // the provider has it, our record says it never went
    if (row.state === 'scheduled' || row.state === 'sending' || row.state === 'unknown') counts.stuck++;
    else if (row.state === 'sent' && row.debits === 0) counts.stuck++;
  }
  if (Number(credit?.reserved ?? 0) > 0) counts.stuck++;
  return counts;
}

/**
 * The dispatch's end, then as many more dispatches (as the next reminder runs would be) as it takes
 * to send what a transient fault left waiting, up to `runs`.
 */
export async function dispatchToTheEnd(
  world: ChaosWorld,
  run: SmsRun,
  first: WorkflowHandle<typeof dispatchMessages>,
  runs = 3,
): Promise<void> {
  let totals = await finished(first);
  for (let i = 1; i < runs && totals.waiting > 0; i++)
    totals = await finished(await startSmsDispatch(world, run));
}

/** Worker processes for a run: `count` of them, all hosting its workflow queue and its account's send queue. */
export async function runWorkers(world: ChaosWorld, run: SmsRun, count: number) {
  const workers: ChaosWorker[] = [];
  for (let i = 0; i < count; i++) workers.push(await startRunWorker(world, run));
  return {
    workers,
    /** stops every worker still running (a scenario may have killed some) */
    stop: () => Promise.all(workers.map((w) => w.stop())),
  };
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The common shape of a fault during a dispatch: `messages` texts at 20 a second through two worker
 * processes; once a share of them has reached the stand-in, `fault` breaks something; the dispatch
 * (and up to two more, as the next runs) then sends the rest, and the run is measured.
 */
export async function faultDuringDispatch(opts: {
  messages: number;
  /** how much of the run has reached the stand-in when the fault comes */
  after: number;
  fault(world: ChaosWorld): Promise<void>;
  /** undoes what the fault left switched on, whatever happened */
  cleanUp?(world: ChaosWorld): Promise<void>;
}): Promise<ChaosCounts> {
  const { world, run } = await prepareSmsRun({ messages: opts.messages, batchSize: 20 });
  const workers = await runWorkers(world, run, 2);
  try {
    const handle = await startSmsDispatch(world, run);
    await whenAccepted(world, run, Math.floor(opts.messages * opts.after));
    await opts.fault(world);
    await dispatchToTheEnd(world, run, handle, 5);
    return await measureSmsRun(world, run);
  } finally {
    await opts.cleanUp?.(world);
    await workers.stop();
  }
}
