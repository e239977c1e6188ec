// Test helpers for sending: a fresh company with contacts and due messages, test accounts, and workers for them.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import type { App } from '../../lib/app';
import type { Sql } from '../../lib/db';
import { WORKFLOW_IDS } from '../../lib/names';
import {
  setFallback,
  upsertAccount,
  type AccountDefinition,
  type ProviderAccount,
} from '../../lib/providers/accounts';
import { createProviderRegistry } from '../../lib/providers/registry';
import { createTwilioSms } from '../../lib/providers/twilio-sms';
import { createTwilioVoice } from '../../lib/providers/twilio-voice';
import type { AnyProvider, Channel, SmsProvider, VoiceProvider } from '../../lib/providers/types';
import { connectWorker } from '../../lib/temporal';
import { createSendWorkers } from '../../workers/send-workers';
import { dispatchMessages } from '../../workflows';
import type { DispatchMessagesInput, DispatchTotals } from '../../workflows/dispatch-messages';
import type { TwilioStandin } from '../standins/twilio';
import { startTestWorker, testActivities } from './harness';

export interface TestCompany {
  id: number;
  alias: string;
}

const short = () => randomUUID().slice(0, 8);

/**
 * A company whose messages the test makes itself: its reminder plan is empty unless `settings` gives
 * one, so a reminder run makes no messages of its own for the appointments the test adds.
 */
export async function createTestCompany(
  sql: Sql,
  opts: { credits?: number; plan?: Record<string, number | null>; settings?: Record<string, unknown> } = {},
): Promise<TestCompany> {
  const alias = `t-${short()}`;
  const [company] = await sql<{ id: number }[]>`
    insert into companies (alias, name, timezone, phone_number, email_from, email_reply_to, settings)
    values (${alias}, 'Harbor Dental', 'America/New_York', '+16175550100', 'reminders@harbor.example',
            'desk@harbor.example', ${sql.json((opts.settings ?? { reminderPlan: [] }) as never)})
    returning id`;
  const id = company!.id;
  await sql`insert into company_plans ${sql({ company_id: id, plan: 'test', ...opts.plan } as never)}`;
  if (opts.credits) {
    await sql`insert into credit_ledger (company_id, kind, credits, note) values (${id}, 'purchase', ${opts.credits}, 'test credits')`;
  }
  return { id, alias };
}

/** Every contact a test makes gets a number of its own, so counts at a stand-in never mix tests up. */
let nextPhone = 2_000_000 + Math.floor(Math.random() * 6_000_000);

export async function createContacts(
  sql: Sql,
  companyId: number,
  count: number,
  extra: Record<string, unknown> = {},
): Promise<number[]> {
  const rows = Array.from({ length: count }, (_, i) => ({
    company_id: companyId,
    dedupe_key: `c-${short()}-${i}`,
    first_name: `ANN${i}`,
    last_name: 'Lee',
    phone_e164: `+1617${nextPhone++}`,
    email: `ann${i}@example.com`,
    region: 'northeast',
    ...extra,
  }));
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += 5000) {
    const inserted = await sql<
      { id: number }[]
    >`insert into contacts ${sql(rows.slice(i, i + 5000) as never)} returning id`;
    ids.push(...inserted.map((r) => r.id));
  }
  return ids;
}

/** The phone numbers of the contacts: what a test counts arrivals at the Twilio stand-in by. */
export async function contactPhones(sql: Sql, contactIds: readonly number[]): Promise<Set<string>> {
  const rows = await sql<{ phone_e164: string }[]>`
    select phone_e164 from contacts where id in ${sql(contactIds as number[])}`;
  return new Set(rows.map((r) => r.phone_e164));
}

/** One due message per contact on the channel, with the global appointment_reminder template's fields. */
export async function insertMessages(
  sql: Sql,
  companyId: number,
  contactIds: number[],
  channel: Channel,
): Promise<number[]> {
  const rows = contactIds.map((contactId, i) => ({
    company_id: companyId,
    contact_id: contactId,
    channel,
    template_name: 'appointment_reminder',
    data: { first_name: `ann${i}`, appointment_date: '2030-03-05T14:30:00Z' },
    contact_at: new Date(Date.now() - 60_000),
    region: 'northeast',
  }));
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += 5000) {
    const inserted = await sql<
      { id: number }[]
    >`insert into messages ${sql(rows.slice(i, i + 5000) as never)} returning id`;
    ids.push(...inserted.map((r) => r.id));
  }
  return ids;
}

export async function createTestAccount(
  sql: Sql,
  def: Omit<AccountDefinition, 'key'> & { fallbackKey?: string },
): Promise<ProviderAccount> {
  const account = await upsertAccount(sql, { ...def, key: `t-${def.provider}-${short()}` });
  if (def.fallbackKey) await setFallback(sql, account.key, def.fallbackKey);
  return { ...account, fallbackKey: def.fallbackKey ?? null };
}

export interface DispatchWorkers {
  taskQueue: string;
  stop(): Promise<void>;
}

export interface DispatchWorkerOptions {
  accounts: ProviderAccount[];
  /** the stand-in every Twilio account of `accounts` sends to, unless `instances` gives it a provider */
  twilio?: TwilioEndpoint;
  instances?: Record<string, AnyProvider>;
  providerTimeoutMs?: number;
  publicBaseUrl?: string;
}

/** A workflow worker on a fresh queue plus send workers for the given accounts, all with these providers. */
export async function startDispatchWorkers(app: App, opts: DispatchWorkerOptions): Promise<DispatchWorkers> {
  const config = {
    ...app.config,
    // tests run beside other suites on a small shared machine, where timers and sockets jitter more
    // than a network does: more headroom under each cap (the benchmark measures the default)
    sending: { ...app.config.sending, providerTimeoutMs: opts.providerTimeoutMs ?? 500, headroomPercent: 10 },
    ingress: { ...app.config.ingress, publicBaseUrl: opts.publicBaseUrl },
  };
  const { twilio } = opts;
  const toStandin = twilio
    ? opts.accounts.filter((a) => a.provider === 'twilio').map((a) => [a.key, twilioProvider(a, twilio)])
    : [];
  const instances = { ...Object.fromEntries(toStandin), ...opts.instances };
  const activities = testActivities(app, createProviderRegistry({ sql: app.sql, config, instances }));
  const main = await startTestWorker(app, { activities });
  const senders = await startSendWorkers(app, opts.accounts, activities);
  return {
    taskQueue: main.taskQueue,
    stop: async () => {
      await senders.stop();
      await main.stop();
    },
  };
}

/** The accounts' send workers (activities only, at each account's rate) in this process. */
export async function startSendWorkers(
  app: App,
  accounts: ProviderAccount[],
  activities: Activities,
): Promise<{ stop(): Promise<void> }> {
  const connection = await connectWorker(app.temporal);
  const senders: Worker[] = await createSendWorkers({
    sql: app.sql,
    connection,
    namespace: app.temporal.namespace,
    accounts,
    activities,
  });
  const running = senders.map((w) => w.run());
  return {
    stop: async () => {
      senders.forEach((w) => w.shutdown());
      await Promise.all(running);
      await connection.close();
    },
  };
}

/** Dispatch workers started as `startDispatchWorkers` starts them while `fn` runs, stopped after whatever it does. */
export async function withDispatchWorkers<T>(
  app: App,
  opts: DispatchWorkerOptions,
  fn: (workers: DispatchWorkers) => Promise<T>,
): Promise<T> {
  const workers = await startDispatchWorkers(app, opts);
  try {
    return await fn(workers);
  } finally {
    await workers.stop();
  }
}

/** Where a Twilio stand-in listens and how it signs: in this process or a process of its own. */
export type TwilioEndpoint = Pick<TwilioStandin, 'url' | 'accountSid' | 'authToken'>;

/** What a Twilio adapter of account `key` needs to send to a Twilio stand-in. */
function standinSettings(key: string, twilio: TwilioEndpoint) {
  return { account: key, accountSid: twilio.accountSid, authToken: twilio.authToken, apiBaseUrl: twilio.url };
}

/** The Twilio SMS adapter of account `key`, sending to a Twilio stand-in (no account row needed). */
export function twilioSmsProvider(key: string, twilio: TwilioEndpoint): SmsProvider {
  return createTwilioSms(standinSettings(key, twilio));
}

/** The Twilio adapter of an SMS or voice account, sending to a Twilio stand-in. */
export function twilioProvider(
  account: ProviderAccount,
  twilio: TwilioEndpoint,
): SmsProvider | VoiceProvider {
  if (account.channel === 'sms') return twilioSmsProvider(account.key, twilio);
  if (account.channel === 'voice') return createTwilioVoice(standinSettings(account.key, twilio));
  throw new Error(`account ${account.key}: Twilio sends no ${account.channel}`);
}

/** The provider instances for one account that sends to a Twilio stand-in. */
export function twilioInstances(
  account: ProviderAccount,
  twilio: TwilioEndpoint,
): Record<string, AnyProvider> {
  return { [account.key]: twilioProvider(account, twilio) };
}

/** Dispatch workers for one account that sends to a Twilio stand-in. */
export function startTwilioDispatchWorkers(
  app: App,
  account: ProviderAccount,
  twilio: TwilioEndpoint,
): Promise<DispatchWorkers> {
  return startDispatchWorkers(app, { accounts: [account], twilio });
}

/** The variables a worker process (`startWorkerProcess`) needs to send the account's texts to a Twilio stand-in. */
export function twilioWorkerEnv(
  twilio: TwilioEndpoint,
  account: ProviderAccount,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_API_BASE_URL: twilio.url,
    WORKER_SEND_ACCOUNTS: account.key,
    ...extra,
  };
}

type DispatchRequest = Omit<DispatchMessagesInput, 'dueBefore'> & { dueBefore?: string };

/** Starts a dispatch of what is due now (unless `dueBefore` says otherwise) on the queue, without waiting for it. */
export async function startDispatch(
  app: App,
  taskQueue: string,
  input: DispatchRequest,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof dispatchMessages>> {
  const client = await app.client();
  return client.workflow.start(dispatchMessages, {
    taskQueue,
    workflowId: WORKFLOW_IDS.dispatch(input.companyAlias, input.channel, randomUUID()),
    args: [{ ...input, dueBefore: input.dueBefore ?? new Date().toISOString() }],
  });
}

export async function runDispatch(
  app: App,
  workers: DispatchWorkers,
  input: DispatchRequest,
): Promise<DispatchTotals> {
  return (await startDispatch(app, workers.taskQueue, input)).result();
}

/** Sends a company's due messages of one channel through a fresh local-outbox account, and stops its workers. */
export async function dispatchThroughOutbox(
  app: App,
  company: TestCompany,
  channel: Channel,
): Promise<DispatchTotals> {
  const account = await createTestAccount(app.sql, {
    channel,
    provider: 'outbox',
    maxPerSecond: 100,
    batchSize: 10,
  });
  const workers = await startDispatchWorkers(app, { accounts: [account] });
  try {
    return await runDispatch(app, workers, {
      companyId: company.id,
      companyAlias: company.alias,
      channel,
      accountKey: account.key,
    });
  } finally {
    await workers.stop();
  }
}

/** The most arrivals inside any one-second window (sliding, not calendar seconds). */
export function maxInAnySecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= 1000) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

export async function messageStates(sql: Sql, ids: number[]): Promise<Record<string, number>> {
  const rows = await sql<{ state: string; n: number }[]>`
    select state, count(*)::int as n from messages where id in ${sql(ids)} group by state`;
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}
