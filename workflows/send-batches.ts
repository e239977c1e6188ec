// Workflow side of sending: ids in, batches on the provider account's queue with failover, a window of them in flight, totals out.
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AccountRoute, DispatchRoute } from '../activities/dispatch';
import { DISPATCH_TOKEN } from '../lib/names';
import { noCounts, type BatchCounts } from '../lib/workflow-helpers/batch-counts';

/** Every batch's counts added up (`waiting`: still waiting after every retry and fallback; the next run
 * takes them), with the batches run and the messages a fallback account took after the primary gave up. */
export interface DispatchTotals extends BatchCounts {
  failedOver: number;
  batches: number;
}

/** tries of a batch on an account before it is settled and failed over */
export const SEND_ATTEMPTS = 5;

export const noTotals = (): DispatchTotals => ({ ...noCounts(), failedOver: 0, batches: 0 });
const COUNT_KEYS = Object.keys(noCounts()) as (keyof BatchCounts)[];

const { settleMessageBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

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
  for (const key of COUNT_KEYS) totals[key] += counts[key];
}

/** `a` and `b` added up. */
export function sumTotals(a: DispatchTotals, b: DispatchTotals): DispatchTotals {
  const sum = { ...a, failedOver: a.failedOver + b.failedOver, batches: a.batches + b.batches };
  add(sum, b);
  return sum;
}

export interface BatchSender {
  /** batches in flight at most: enough to keep the account busy for about two seconds */
  readonly window: number;
  /** ids worth reading at once: two windows of batches */
  readonly pageSize: number;
  /** Starts batches of `ids` in order; resolves once the last is started (waits while the window is full). */
  send(ids: readonly number[]): Promise<void>;
  /** Resolves when every batch started has finished. */
  drain(): Promise<void>;
}

/**
 * Sends a company's messages through `route` from workflow `workflowId`, adding to `totals` (its
 * `batches` numbers the batches: their tokens are unique within the workflow, continue-as-new too).
 */
export function batchSender(opts: {
  companyId: number;
  workflowId: string;
  route: DispatchRoute;
  /** tries of a batch on an account before it is settled and failed over */
  attempts: number;
  totals: DispatchTotals;
}): BatchSender {
  const { totals } = opts;
  const primary = { route: opts.route.primary, send: sender(opts.route.primary, opts.attempts) };
  const fallback = opts.route.fallback
    ? { route: opts.route.fallback, send: sender(opts.route.fallback, opts.attempts) }
    : undefined;
  const { batchSize, maxPerSecond } = primary.route;
  const window = Math.min(32, Math.max(2, Math.ceil((2 * maxPerSecond) / batchSize)));
  const inflight = new Set<Promise<void>>();

  /** One batch on one account; when it gives up, what it provably did not send moves to the next account. */
  async function runBatch(ids: number[], n: number, accounts: NonNullable<typeof fallback>[]): Promise<void> {
    const [account, ...rest] = accounts;
    const ref = {
      companyId: opts.companyId,
      accountKey: account!.route.key,
      messageIds: ids,
      token: DISPATCH_TOKEN(opts.workflowId, n, account!.route.key),
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

  return {
    window,
    pageSize: Math.min(10_000, batchSize * window * 2),
    async send(ids) {
      for (let i = 0; i < ids.length; i += batchSize) {
        while (inflight.size >= window) await Promise.race(inflight);
        const n = ++totals.batches;
        const p: Promise<void> = runBatch(
          ids.slice(i, i + batchSize),
          n,
          fallback ? [primary, fallback] : [primary],
        ).finally(() => inflight.delete(p));
        inflight.add(p);
      }
    },
    async drain() {
      await Promise.all(inflight);
    },
  };
}

type Channel = 'sms' | 'voice' | 'email';

export interface ChannelSenders {
  /** Reads the channel's route now, alongside other work; one that cannot be read fails only a channel with something to send. */
  prefetch(channel: Channel): void;
  /** Starts batches of `ids` on the channel's route (read when first asked for); resolves once the last is started. */
  send(channel: Channel, ids: readonly number[]): Promise<void>;
  /** Resolves when every batch started on every channel has finished. */
  drain(): Promise<void>;
  /** whether any channel has been handed messages */
  readonly sending: boolean;
}

/**
 * A batch sender per channel for workflow `workflowId`: a channel's totals go into `sent` when it
 * first sends (added to what is there, as after continue-as-new).
 */
export function channelSenders(opts: {
  companyId: number;
  workflowId: string;
  attempts: number;
  route(channel: Channel): Promise<DispatchRoute>;
  sent: Partial<Record<Channel, DispatchTotals>>;
}): ChannelSenders {
  const senders = new Map<Channel, { totals: DispatchTotals; sender: Promise<BatchSender> }>();
  const senderFor = (channel: Channel) => {
    let found = senders.get(channel);
    if (!found) {
      const totals = opts.sent[channel] ?? noTotals();
      const sender = opts.route(channel).then((route) =>
        batchSender({
          companyId: opts.companyId,
          workflowId: opts.workflowId,
          route,
          attempts: opts.attempts,
          totals,
        }),
      );
      senders.set(channel, (found = { totals, sender }));
    }
    return found;
  };
  /** the channels handed messages */
  const sending = new Set<Channel>();
  return {
    prefetch(channel) {
      senderFor(channel).sender.catch(() => undefined);
    },
    async send(channel, ids) {
      const { totals, sender } = senderFor(channel);
      sending.add(channel);
      opts.sent[channel] = totals;
      await (await sender).send(ids);
    },
    async drain() {
      await Promise.all([...sending].map(async (c) => (await senderFor(c).sender).drain()));
    },
    get sending() {
      return sending.size > 0;
    },
  };
}
