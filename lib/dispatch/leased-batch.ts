// Runs one attempt's work on a send batch under the batch's lease, heartbeating all along (see send-lease.ts).
import type { Sql } from '../db';
import type { Logger } from '../log';
import type { ProviderRegistry } from '../providers/registry';
import { takeOnEarlierClaims, type BatchRef, type Undecided } from './batch-context';
import { pause } from './pause';
import { SendLease } from '../send-lease';

export interface LeasedBatchDeps {
  sql: Sql;
  providers: ProviderRegistry;
  log: Logger;
  heartbeat(details: unknown): void;
  /** the activity's cancellation: the attempt then makes no further provider call */
  cancelled?: AbortSignal;
}

/**
 * An attempt heartbeats this often whatever it is doing (waiting for send slots, a window, a backoff,
 * the fence, answers): Temporal must never take a live attempt for a dead one. The SDK throttles
 * what it forwards to the server.
 */
const HEARTBEAT_EVERY_MS = 1000;

/**
 * Runs `work` while holding the batch's send lease and heartbeating: takes the lease over, waits out
 * earlier attempts' fence, takes on their claims; gives the lease back at the end.
 */
export async function withSendLease<T>(
  deps: LeasedBatchDeps,
  ref: BatchRef,
  work: (lease: SendLease, beat: { details: unknown }) => Promise<T>,
  takeOn?: Undecided,
): Promise<T> {
  const lease = new SendLease(deps.sql, ref.token, deps.providers.leaseTimes, deps.log, deps.cancelled);
  const beat = { details: {} as unknown };
  const timer = setInterval(() => deps.heartbeat(beat.details), HEARTBEAT_EVERY_MS);
  try {
    const { fenceMs, fresh } = await lease.acquire();
    if (fenceMs > 0) {
      beat.details = { fenceMs };
      await pause(fenceMs, lease.signal);
    }
    lease.check();
    // a new lease has no earlier holder whose 'sending' claims to take on: a batch's first attempt
    // reaches its load a transaction sooner (what else is undecided, a sweep asks for)
    if (!fresh || takeOn) await takeOnEarlierClaims(deps.sql, ref, lease, takeOn);
    return await work(lease, beat);
  } finally {
    clearInterval(timer);
    await lease.release(ref.companyId, ref.messageIds).catch((err: unknown) => {
      // it expires on its own; the next attempt then waits a little longer
      deps.log.warn({ err, token: ref.token }, 'send lease: could not give it back');
    });
  }
}
