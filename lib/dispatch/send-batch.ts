// Sends one batch of a company's messages through one provider account: reconcile, prepare, pace, claim, send, record.
import type { Sql } from '../db';
import type { Logger } from '../log';
import type { ProviderAccount } from '../providers/accounts';
import { ProviderError } from '../providers/errors';
import type { ProviderRegistry } from '../providers/registry';
import type { AnyProvider, ChannelInput } from '../providers/types';
import { claimMessages, settleUnsendable, type ClaimScope } from './claim';
import { loadBatchContext, ownSending, reconcileOwn, type BatchRef } from './batch-context';
import type { CompanyContext } from './load';
import { createOutcomeBuffer } from './outcome-buffer';
import { prepareSends, type PreparedSend } from './prepare';
import { pauseLimiter, limiterKey } from './rate-slots';
import { recordOutcomes } from './record';
import { scheduleSends } from './schedule';

/** A batch: a company's message ids for one account; `token` owns what it claims, the same on every retry. */
export type SendBatchInput = BatchRef;

export interface BatchCounts {
  sent: number;
  failed: number;
  held: number;
  skipped: number;
  unknown: number;
  /** not sent yet because of a transient problem (still scheduled, or in 'sending' awaiting reconciliation) */
  waiting: number;
  /** already final, claimed by another batch, or not this company's / channel's */
  untouched: number;
}

/** The batch stopped with messages still waiting on a transient problem; a retry picks them up. */
export class BatchIncomplete extends Error {
  override readonly name = 'BatchIncomplete';
  constructor(
    readonly reason: 'throttled' | 'unavailable',
    readonly counts: BatchCounts,
    readonly retryAfterMs?: number,
  ) {
    super(`${counts.waiting} message(s) wait: the provider is ${reason === 'throttled' ? 'throttling us' : 'failing'}`);
  }
}

/** Long waits (a slow sender number, a backoff) keep heartbeating so Temporal knows the batch is alive. */
export function heartbeatingSleep(heartbeat: (details: unknown) => void) {
  return async (ms: number) => {
    for (let left = ms; left > 0; left -= 1000) {
      await new Promise((r) => setTimeout(r, Math.min(1000, left)));
      heartbeat({ waiting: true });
    }
  };
}

export interface SendBatchDeps {
  sql: Sql;
  providers: ProviderRegistry;
  log: Logger;
  heartbeat(details: unknown): void;
}

/** Claim this far ahead of the send time, so the claim's round trip never delays a send. */
const CLAIM_AHEAD_MS = 50;
const MAX_CLAIM = 250;
const MAX_IN_FLIGHT = 128;
/** Rounds of in-activity backoff on 429 before the batch hands back to Temporal's retry. */
const THROTTLE_ROUNDS = 5;
/** Consecutive unavailable answers that stop a batch (the vendor is down; stop knocking). */
const UNAVAILABLE_STOP = 3;

interface Batch {
  deps: SendBatchDeps;
  account: ProviderAccount;
  provider: AnyProvider;
  company: CompanyContext;
  scope: ClaimScope;
  counts: BatchCounts;
  sleep(ms: number): Promise<void>;
}

interface RoundResult {
  stop?: 'throttled' | 'unavailable' | 'crashed';
  retryAfterMs?: number;
  crash?: unknown;
  /** back to (or still in) 'scheduled' */
  notSent: PreparedSend[];
  /** left in 'sending': the vendor may have them */
  unresolved: number;
  sawUnavailable: boolean;
}

async function runRound(batch: Batch, ready: readonly PreparedSend[]): Promise<RoundResult> {
  const { deps, provider, scope, counts } = batch;
  const timed = await scheduleSends(deps.sql, ready, { account: batch.account, company: batch.company, headroom: deps.providers.headroom });
  const buffer = createOutcomeBuffer(deps.sql, scope);
  const result: RoundResult = { notSent: [], unresolved: 0, sawUnavailable: false };
  let consecutiveUnavailable = 0;
  const inflight = new Set<Promise<void>>();

  const sendOne = async (item: PreparedSend) => {
    const id = item.message.id;
    try {
      const sent = await (provider.send as (input: ChannelInput[keyof ChannelInput]) => ReturnType<AnyProvider['send']>)(item.input);
      buffer.add({ kind: 'sent', id, result: sent });
      consecutiveUnavailable = 0;
    } catch (err) {
      if (!(err instanceof ProviderError)) {
        // anything else is a crash between call and record: the message stays 'sending' for reconciliation
        result.stop ??= 'crashed';
        result.crash ??= err;
        result.unresolved++;
        return;
      }
      if (err.kind === 'rejected') {
        buffer.add({ kind: 'failed', id, reason: err.reason, optOut: err.optOut });
      } else if (err.kind === 'throttled') {
        buffer.add({ kind: 'retry', id, reason: `waiting: ${err.reason}` });
        result.notSent.push(item);
        result.stop ??= 'throttled';
        result.retryAfterMs = err.retryAfterMs ?? result.retryAfterMs;
      } else {
        result.sawUnavailable = true;
        if (err.maybeAccepted) result.unresolved++;
        else {
          buffer.add({ kind: 'retry', id, reason: `waiting: ${err.reason}` });
          result.notSent.push(item);
        }
        if (++consecutiveUnavailable >= UNAVAILABLE_STOP) result.stop ??= 'unavailable';
      }
    }
  };

  let i = 0;
  while (i < timed.length) {
    if (result.stop) {
      result.notSent.push(...timed.slice(i));
      break;
    }
    const lead = timed[i]!.at - CLAIM_AHEAD_MS - Date.now();
    if (lead > 0) await batch.sleep(lead);
    const horizon = Date.now() + CLAIM_AHEAD_MS;
    let j = i;
    while (j < timed.length && timed[j]!.at <= horizon && j - i < MAX_CLAIM) j++;
    const group = timed.slice(i, j);
    i = j;
    const claim = await claimMessages(deps.sql, scope, group.map(candidateOf));
    counts.held += claim.held.length;
    const claimed = new Set(claim.claimed);
    for (const item of group) {
      if (!claimed.has(item.message.id)) continue;
      if (result.stop) {
        buffer.add({ kind: 'retry', id: item.message.id, reason: `waiting: the batch paused (${result.stop})` });
        result.notSent.push(item);
        continue;
      }
      const wait = item.at - Date.now();
      if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
      while (inflight.size >= MAX_IN_FLIGHT) await Promise.race(inflight);
      const p: Promise<void> = sendOne(item).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    deps.heartbeat({ ...buffer.counts, held: counts.held });
  }
  await Promise.all(inflight);
  await buffer.flush();
  counts.sent += buffer.counts.sent;
  counts.failed += buffer.counts.failed;
  return result;
}

const candidateOf = (item: PreparedSend) => ({
  id: item.message.id,
  cost: item.cost,
  to: item.input.to,
  from: 'from' in item.input ? (item.input.from ?? null) : null,
  segments: item.rendered.channel === 'sms' ? item.rendered.segments : null,
  encoding: item.rendered.channel === 'sms' ? item.rendered.encoding : null,
});

export async function sendBatch(deps: SendBatchDeps, input: SendBatchInput): Promise<BatchCounts> {
  const { sql } = deps;
  const ctx = await loadBatchContext(sql, deps.providers, input);
  const { account, company, rows, scope, prepareOptions } = ctx;
  const counts: BatchCounts = { sent: 0, failed: 0, held: 0, skipped: 0, unknown: 0, waiting: 0, untouched: 0 };
  const sleep = heartbeatingSleep(deps.heartbeat);
  const batch: Batch = { deps, account, provider: ctx.provider, company, scope, counts, sleep };

  // 1. what an earlier attempt of this batch left in 'sending' is settled before anything is sent
  const mine = ownSending(ctx);
  const settled = await reconcileOwn(sql, deps.providers, ctx, 'leave', sleep);
  await recordOutcomes(sql, scope, settled.outcomes);
  const again = new Set(settled.outcomes.filter((o) => o.kind === 'retry').map((o) => o.id));
  counts.sent += settled.outcomes.filter((o) => o.kind === 'sent').length;
  counts.unknown += settled.outcomes.filter((o) => o.kind === 'unknown').length;

  // 2. render and address what is due; settle what can never be sent
  const due = rows.filter((r) => r.state === 'scheduled' || again.has(r.id));
  counts.untouched = input.messageIds.length - due.length - mine.length;
  const preparations = prepareSends(due, prepareOptions);
  const skips = preparations.flatMap((p) => (p.kind === 'skip' ? [{ id: p.id, reason: p.reason }] : []));
  const fails = preparations.flatMap((p) => (p.kind === 'fail' ? [{ id: p.id, reason: p.reason }] : []));
  await settleUnsendable(sql, scope, skips, fails);
  counts.skipped += skips.length;
  counts.failed += fails.length;
  let ready = preparations.flatMap((p) => (p.kind === 'ready' ? [p.send] : []));

  // 3. paced rounds; a 429 pauses the whole account (every worker) and the rest goes in the next round
  for (let round = 0; ready.length; round++) {
    const result = await runRound(batch, ready);
    if (result.stop === 'crashed') throw result.crash;
    if (result.stop === 'throttled' && round < THROTTLE_ROUNDS) {
      const backoff = result.retryAfterMs ?? Math.min(30_000, 1000 * 2 ** round);
      deps.log.warn({ account: account.key, backoffMs: backoff, waiting: result.notSent.length }, 'provider throttled us: backing off');
      await pauseLimiter(sql, limiterKey.account(account.key), Date.now() + backoff);
      await sleep(backoff);
      ready = result.notSent;
      continue;
    }
    counts.waiting = result.notSent.length + result.unresolved + settled.unresolved.length;
    if (result.stop === 'throttled') throw new BatchIncomplete('throttled', counts, result.retryAfterMs);
    if (result.stop || result.sawUnavailable) throw new BatchIncomplete('unavailable', counts);
    break;
  }
  counts.waiting ||= settled.unresolved.length;
  if (settled.unresolved.length) throw new BatchIncomplete('unavailable', counts);
  return counts;
}
