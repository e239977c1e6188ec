// Sends a company's due messages of one channel: pages of ids, batches on the provider account's queue, failover, totals.
import {
  ActivityFailure,
  continueAsNew,
  defineQuery,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AccountRoute, BatchCounts, DispatchChannel } from '../activities/dispatch';
import { DISPATCH_TOKEN } from '../lib/names';

/** Every batch's counts added up (`waiting`: still waiting after every retry and fallback; the next run
 * takes them), with the batches run and the messages a fallback account took after the primary gave up. */
export interface DispatchTotals extends BatchCounts {
  failedOver: number;
  batches: number;
}

export interface DispatchMessagesInput {
  companyId: number;
  companyAlias: string;
  channel: DispatchChannel;
  region?: string;
  /** ISO time: messages due at or before it are sent */
  dueBefore: string;
  /** only messages this reminder-region workflow screened ready (unset = every due message) */
  screenedBy?: string;
  /** a particular account; unset = the company's account for the channel, else the channel's default */
  accountKey?: string;
  /** tries of a batch on an account before it is settled and failed over (default 5) */
  sendAttempts?: number;
  /** set by continue-as-new */
  cursor?: { afterId: number; batches: number; totals: DispatchTotals };
}

export const dispatchProgressQuery = defineQuery<DispatchTotals>('progress');

const NO_COUNTS: BatchCounts = {
  sent: 0,
  failed: 0,
  held: 0,
  skipped: 0,
  unknown: 0,
  waiting: 0,
  untouched: 0,
};
const ZERO: DispatchTotals = { ...NO_COUNTS, failedOver: 0, batches: 0 };
/** Pages per run before continue-as-new keeps the history short whatever the volume. */
const PAGES_PER_RUN = 25;

const READS = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
} as const;
const { settleMessageBatch } = proxyActivities<Activities>(READS);
/**
 * The route and the pages of ids are short reads that stand before the first batch: as local
 * activities they run inside the workflow task, with no round trip through the server's queues
 * each (two of them before the first text). Runs started before this change read them as
 * activities, which is what their histories replay.
 */
const LOCAL_READS = 'dispatch-local-reads';
const localReads = proxyLocalActivities<Activities>(READS);
const remoteReads = proxyActivities<Activities>(READS);

function sender(route: AccountRoute, attempts: number) {
  return proxyActivities<Activities>({
    taskQueue: route.taskQueue,
    // a batch at one message a second per number can take minutes; heartbeats (every second, whatever
    // it waits for) prove it alive, and an attempt silent this long is presumed dead: its send lease
    // runs out after as long, so it can send nothing more once another attempt starts
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: route.heartbeatTimeoutMs,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: attempts,
      nonRetryableErrorTypes: ['ProviderConfigError', 'UnknownAccountError', 'UnknownCompanyError'],
    },
  }).sendMessageBatch;
}

function add(totals: DispatchTotals, counts: BatchCounts): void {
  for (const key of Object.keys(NO_COUNTS) as (keyof BatchCounts)[]) totals[key] += counts[key];
}

export async function dispatchMessages(input: DispatchMessagesInput): Promise<DispatchTotals> {
  const totals: DispatchTotals = { ...(input.cursor?.totals ?? ZERO) };
  setHandler(dispatchProgressQuery, () => totals);
  const { workflowId } = workflowInfo();
  const { describeDispatchRoute, selectDueMessages } = patched(LOCAL_READS) ? localReads : remoteReads;
  const route = await describeDispatchRoute({
    companyId: input.companyId,
    channel: input.channel,
    accountKey: input.accountKey,
  });
  const attempts = input.sendAttempts ?? 5;
  const primary = { route: route.primary, send: sender(route.primary, attempts) };
  const fallback = route.fallback
    ? { route: route.fallback, send: sender(route.fallback, attempts) }
    : undefined;
  // enough batches in flight to keep the account busy for about two seconds
  const window = Math.min(
    32,
    Math.max(2, Math.ceil((2 * primary.route.maxPerSecond) / primary.route.batchSize)),
  );
  const pageSize = Math.min(10_000, primary.route.batchSize * window * 2);

  /** One batch on one account; when it gives up, what it provably did not send moves to the next account. */
  async function runBatch(ids: number[], n: number, accounts: NonNullable<typeof fallback>[]): Promise<void> {
    const [account, ...rest] = accounts;
    const ref = {
      companyId: input.companyId,
      accountKey: account!.route.key,
      messageIds: ids,
      token: DISPATCH_TOKEN(workflowId, n, account!.route.key),
    };
    try {
      add(totals, await account!.send(ref));
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const settled = await settleMessageBatch(ref);
      totals.sent += settled.sent;
      totals.unknown += settled.unknown;
      if (rest.length && settled.retryable.length) {
        totals.failedOver += settled.retryable.length;
        await runBatch(settled.retryable, n, rest);
      } else {
        totals.waiting += settled.retryable.length;
      }
    }
  }

  let afterId = input.cursor?.afterId ?? 0;
  const inflight = new Set<Promise<void>>();
  for (let page = 0; ; page++) {
    const ids = await selectDueMessages({
      companyId: input.companyId,
      channel: input.channel,
      region: input.region,
      dueBefore: input.dueBefore,
      screenedBy: input.screenedBy,
      afterId,
      limit: pageSize,
    });
    for (let i = 0; i < ids.length; i += primary.route.batchSize) {
      while (inflight.size >= window) await Promise.race(inflight);
      const n = ++totals.batches;
      const p: Promise<void> = runBatch(
        ids.slice(i, i + primary.route.batchSize),
        n,
        fallback ? [primary, fallback] : [primary],
      ).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    if (ids.length < pageSize) break;
    afterId = ids[ids.length - 1]!;
    if (page + 1 >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await Promise.all(inflight);
      await continueAsNew<typeof dispatchMessages>({
        ...input,
        cursor: { afterId, batches: totals.batches, totals },
      });
    }
  }
  await Promise.all(inflight);
  return totals;
}
