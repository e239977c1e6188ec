// Sends one batch of a company's messages through one provider account: reconcile, prepare, pace, claim, send, record.
import { loadBatchContext, ownSending, reconcileOwn, type BatchRef } from './batch-context';
import { withSendLease, type LeasedBatchDeps } from './leased-batch';
import { endUnsendable } from './end-unsendable';
import { runRound, type Pace } from './pacer';
import { pause } from './pause';
import { prepareSendsInSlices } from '../render/prepare';
import { limiterKey, pauseLimiter } from '../rates/rate-slots';
import { recordOutcomes } from './record';
import { LeaseLost, type SendLease } from '../send-lease';
import { noCounts, type BatchCounts } from '../workflow-helpers/batch-counts';

/** A batch: a company's message ids for one account; `token` owns what it claims, the same on every retry. */
export type SendBatchInput = BatchRef;

/** The batch stopped with messages still waiting on a transient problem; a retry picks them up. */
export class BatchIncomplete extends Error {
  override readonly name = 'BatchIncomplete';
  constructor(
    readonly reason: 'throttled' | 'unavailable',
    readonly counts: BatchCounts,
    readonly retryAfterMs?: number,
  ) {
    super(
      `${counts.waiting} message(s) wait: the provider is ${reason === 'throttled' ? 'throttling us' : 'failing'}`,
    );
  }
}

/** Throttled rounds in a row (none sent anything) before the batch hands back to Temporal's retry. */
const THROTTLE_ROUNDS = 5;
/** After a 429 the batch sends at half its pace, down to this fraction of the cap. */
const MIN_SLOWDOWN = 0.125;

export async function sendBatch(deps: LeasedBatchDeps, input: SendBatchInput): Promise<BatchCounts> {
  return withSendLease(deps, input, (lease, beat) => sendLeased(deps, input, lease, beat));
}

async function sendLeased(
  deps: LeasedBatchDeps,
  input: SendBatchInput,
  lease: SendLease,
  beat: { details: unknown },
): Promise<BatchCounts> {
  const { sql } = deps;
  const timings: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string) => {
    timings[name] = (timings[name] ?? 0) + Date.now() - mark;
    mark = Date.now();
  };
  const ctx = await loadBatchContext(sql, deps.providers, input, lease);
  lap('load');
  const { account, company, rows, scope, prepareOptions } = ctx;
  const counts = noCounts();
  const pace: Pace = {
    sql,
    log: deps.log,
    account,
    provider: ctx.provider,
    company,
    scope,
    headroom: deps.providers.headroom,
    requestTimeoutMs: deps.providers.requestTimeoutMs,
    slowdown: 1,
    heartbeat: (details) => {
      beat.details = details;
      deps.heartbeat(details);
    },
  };

  // 1. what an earlier attempt of this batch left in 'sending' is settled before anything is sent
  const mine = ownSending(ctx);
  const settled = await reconcileOwn(sql, ctx, 'leave');
  await recordOutcomes(sql, scope, settled.outcomes);
  const again = new Set(settled.outcomes.filter((o) => o.kind === 'retry').map((o) => o.id));
  counts.sent += settled.outcomes.filter((o) => o.kind === 'sent').length;
  counts.unknown += settled.outcomes.filter((o) => o.kind === 'unknown').length;

  // 2. render and address what is due; end what can never be sent
  const due = rows.filter((r) => r.state === 'scheduled' || again.has(r.id));
  // an earlier attempt of this batch already settled these: report them as this batch's
  const earlier = rows.filter(
    (r) => r.dispatchToken === input.token && r.state !== 'sending' && r.state !== 'scheduled',
  );
  for (const r of earlier) {
    if (r.state === 'failed') counts.failed++;
    else if (r.state === 'unknown') counts.unknown++;
    else counts.sent++;
  }
  counts.untouched = input.messageIds.length - due.length - mine.length - earlier.length;
  const preparations = await prepareSendsInSlices(due, prepareOptions);
  const skips = preparations.flatMap((p) => (p.kind === 'skip' ? [{ id: p.id, reason: p.reason }] : []));
  const fails = preparations.flatMap((p) => (p.kind === 'fail' ? [{ id: p.id, reason: p.reason }] : []));
  await endUnsendable(sql, scope, skips, fails);
  counts.skipped += skips.length;
  counts.failed += fails.length;
  let ready = preparations.flatMap((p) => (p.kind === 'ready' ? [p.send] : []));
  lap('prepare');

  // 3. paced rounds; a 429 pauses the whole account (every worker), halves this batch's pace, and
  //    the rest goes in the next round; the backoff grows only while rounds send nothing at all
  let late = 0;
  for (let throttled = 0; ready.length;) {
    const result = await runRound(pace, ready);
    lap('send');
    late += result.late;
    counts.sent += result.sent;
    counts.failed += result.failed;
    counts.held += result.held;
    if (result.stop === 'crashed') throw result.crash;
    if (result.stop === 'lost') {
      lease.check();
      throw new LeaseLost('the batch stopped: its lease ran out');
    }
    throttled = result.stop === 'throttled' ? (result.sent ? 1 : throttled + 1) : 0;
    if (result.stop === 'throttled' && throttled <= THROTTLE_ROUNDS) {
      const backoff = result.retryAfterMs ?? Math.min(30_000, 1000 * 2 ** (throttled - 1));
      pace.slowdown = Math.max(MIN_SLOWDOWN, pace.slowdown / 2);
      deps.log.warn(
        { account: account.key, backoffMs: backoff, waiting: result.notSent.length },
        'provider throttled us: backing off',
      );
      await pauseLimiter(sql, limiterKey.account(account.key), Date.now() + backoff);
      await pause(backoff, lease.signal);
      ready = result.notSent;
      continue;
    }
    counts.waiting = result.notSent.length + result.unresolved + settled.unresolved.length;
    if (result.stop === 'throttled') throw new BatchIncomplete('throttled', counts, result.retryAfterMs);
    if (result.stop || result.sawUnavailable) throw new BatchIncomplete('unavailable', counts);
    break;
  }
  deps.log.debug({ account: account.key, batch: input.token, ms: timings, late, ...counts }, 'batch done');
  counts.waiting ||= settled.unresolved.length;
  if (settled.unresolved.length) throw new BatchIncomplete('unavailable', counts);
  return counts;
}
