// Hosts the send queues: one activity-only worker per provider account, with Temporal enforcing the account's rate.
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { Activities } from '../activities';
import type { Config } from '../lib/config';
import type { Sql } from '../lib/db';
import { listActiveAccounts, type ProviderAccount } from '../lib/providers/accounts';
import { hostsActivitiesOnly } from './create-workers';

/** Batches of one account this process sends at once; each mostly waits for its send slots. */
const CONCURRENT_BATCHES = 16;
/**
 * A cancellation reaches an activity only in the answer to one of its heartbeats, and the SDK
 * forwards heartbeats at most this often: a send attempt learns within about a second that it may
 * make no further provider call (the default, 80% of the heartbeat timeout, would be 24 s).
 */
const HEARTBEAT_THROTTLE_MS = 1000;

/**
 * The cap as Temporal sees it: batches per second. Temporal's limiter is per task queue and shared
 * by every worker polling it, so adding workers never adds throughput beyond the cap; the send
 * schedule in Postgres then spaces the messages inside each second.
 */
export const batchesPerSecond = (account: Pick<ProviderAccount, 'maxPerSecond' | 'batchSize'>) =>
  account.maxPerSecond / account.batchSize;

export function sendAccountsFor(config: Config, accounts: ProviderAccount[]): ProviderAccount[] {
  const wanted = config.sending.workerAccounts;
  if (wanted === 'none') return [];
  return wanted === 'all' ? accounts : accounts.filter((a) => wanted.includes(a.key));
}

export async function createSendWorkers(opts: {
  connection: NativeConnection;
  namespace: string;
  accounts: ProviderAccount[];
  activities: Activities;
}): Promise<Worker[]> {
  for (const account of opts.accounts) hostsActivitiesOnly(account.taskQueue);
  return Promise.all(
    opts.accounts.map((account) =>
      Worker.create({
        connection: opts.connection,
        namespace: opts.namespace,
        taskQueue: account.taskQueue,
        activities: opts.activities,
        maxTaskQueueActivitiesPerSecond: batchesPerSecond(account),
        maxConcurrentActivityTaskExecutions: CONCURRENT_BATCHES,
        maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE_MS,
      }),
    ),
  );
}

/** The send workers a worker process starts: every active account's, unless WORKER_SEND_ACCOUNTS says otherwise. */
export async function configuredSendWorkers(opts: {
  sql: Sql;
  config: Config;
  connection: NativeConnection;
  namespace: string;
  activities: Activities;
}): Promise<Worker[]> {
  const accounts = sendAccountsFor(opts.config, await listActiveAccounts(opts.sql));
  return createSendWorkers({ ...opts, accounts });
}
