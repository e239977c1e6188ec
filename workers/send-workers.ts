// Hosts the send queues: one activity-only worker per provider account; the account's cap is held where the sends start.
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { Activities } from '../activities';
import type { Config } from '../lib/config';
import type { Sql } from '../lib/db';
import { listActiveAccounts, type ProviderAccount } from '../lib/providers/accounts';
import { calibrateClock } from '../lib/rates/rate-slots';
import { hostsActivitiesOnly } from './create-workers';

/**
 * A cancellation reaches an activity only in the answer to one of its heartbeats, and the SDK
 * forwards heartbeats at most this often: a send attempt learns within about a second that it may
 * make no further provider call (the default, 80% of the heartbeat timeout, would be 24 s).
 */
const HEARTBEAT_THROTTLE_MS = 1000;

/** WORKER_SEND_BATCHES's default, for callers without a configuration (tests, scripts) */
const DEFAULT_BATCHES_AT_ONCE = 16;

export function sendAccountsFor(config: Config, accounts: ProviderAccount[]): ProviderAccount[] {
  const wanted = config.sending.workerAccounts;
  if (wanted === 'none') return [];
  return wanted === 'all' ? accounts : accounts.filter((a) => wanted.includes(a.key));
}

export async function createSendWorkers(opts: {
  sql: Sql;
  connection: NativeConnection;
  namespace: string;
  accounts: ProviderAccount[];
  activities: Activities;
  /** batches of one account this process sends at once (WORKER_SEND_BATCHES); each mostly waits for its send times */
  batchesAtOnce?: number;
}): Promise<Worker[]> {
  for (const account of opts.accounts) hostsActivitiesOnly(account.taskQueue);
  // the database's clock, which send times are reserved on, is learnt now: the first batch's first
  // text would otherwise wait for five round trips on a machine busy with the run that started it
  if (opts.accounts.length) await calibrateClock(opts.sql);
  return Promise.all(
    opts.accounts.map((account) =>
      Worker.create({
        connection: opts.connection,
        namespace: opts.namespace,
        taskQueue: account.taskQueue,
        activities: opts.activities,
        // no batches-per-second limit on the queue: batches are as small as a region's due messages,
        // so cap / batch size batches a second held the messages far below the cap. The cap holds
        // per message, across workers: shared send times and each process's send window (docs/sending.md)
        maxConcurrentActivityTaskExecutions: opts.batchesAtOnce ?? DEFAULT_BATCHES_AT_ONCE,
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
  return createSendWorkers({ ...opts, accounts, batchesAtOnce: opts.config.sending.workerBatches });
}
