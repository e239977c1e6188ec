// One paced round of a batch: claim ahead of each send slot, call the provider at the slot, record what happened.
import type { Logger } from '../log';
import type { Sql } from '../db';
import type { ProviderAccount } from '../providers/accounts';
import { ProviderError } from '../providers/errors';
import type { AnyProvider, ChannelInput } from '../providers/types';
import { claimMessages, type ClaimScope } from '../messages/claim';
import type { CompanyContext } from '../messages/load';
import { createOutcomeBuffer } from './outcome-buffer';
import { pause } from './pause';
import type { PreparedSend } from '../render/prepare';
import { limiterKey } from '../rates/rate-slots';
import { timeSends, type TimedSend } from './send-times';
import { LeaseLost } from '../send-lease';
import { enterWindows, type SendWindow } from '../rates/send-window';
import { windowShares } from '../rates/window-shares';

/**
 * A batch is sent in chunks of about this much sending time: each chunk reserves its slots and is
 * claimed while the chunk before it is being sent. Reserving just in time (not the whole batch at
 * once) means a stalled worker leaves few unused slots behind, and other batches fill the rest.
 */
const CHUNK_MS = 250;
/**
 * A chunk's send times are reserved a slice of about this much sending time at a time, each while
 * the slice before it is sent: the batches of all processes then take turns every few dozen ms, so
 * each process's sends in any second stay close to its part of the account's rate (a quarter second
 * of consecutive times for one process asked its share of the cap for that quarter second's sends at
 * the full rate, and shares cannot move that fast: window-shares.ts).
 */
const SLICE_MS = 50;
const MAX_CLAIM = 250;
/** An idle limiter starts this far from now: time for the reply to reach us and the timer to be set. */
const FIRST_SLOT_LEAD_MS = 30;
const MAX_IN_FLIGHT = 256;
/** A send this much past its slot counts as late in the batch's log line. */
const LATE_MS = 10;
/** Consecutive unavailable answers that stop a round (the vendor is down; stop knocking). */
const UNAVAILABLE_STOP = 3;

export interface Pace {
  sql: Sql;
  log: Logger;
  account: ProviderAccount;
  provider: AnyProvider;
  company: CompanyContext;
  scope: ClaimScope;
  headroom: number;
  /** how long one vendor request may take (a share of ours outlives its lease by this much) */
  requestTimeoutMs: number;
  /** < 1 after the vendor throttled this batch */
  slowdown: number;
  heartbeat(details: unknown): void;
}

export interface RoundResult {
  /** lost: the attempt may no longer call the provider (its lease lost, its activity cancelled) */
  stop?: 'throttled' | 'unavailable' | 'crashed' | 'lost';
  retryAfterMs?: number;
  crash?: unknown;
  /** back to (or still in) 'scheduled' */
  notSent: PreparedSend[];
  /** left in 'sending': the vendor may have them */
  unresolved: number;
  sawUnavailable: boolean;
  sent: number;
  failed: number;
  held: number;
  /** sends that went later than their slot (the event loop, the database or a full send window held them) */
  late: number;
}

const candidateOf = (item: PreparedSend) => ({
  id: item.message.id,
  cost: item.cost,
  to: item.input.to,
  from: 'from' in item.input ? (item.input.from ?? null) : null,
  segments: item.rendered.channel === 'sms' ? item.rendered.segments : null,
  encoding: item.rendered.channel === 'sms' ? item.rendered.encoding : null,
});

/**
 * A send counts in the windows of every cap it falls under, at this process's shares of the caps
 * themselves (the headroom is the send times').
 */
function windowsOf(pace: Pace, item: PreparedSend): SendWindow[] {
  const shares = windowShares(pace.sql, pace.log, pace.requestTimeoutMs);
  const list = [shares.window(limiterKey.account(pace.account.key), pace.account.maxPerSecond)];
  const companyCap = pace.company.plan.maxSendsPerSecond;
  if (companyCap) list.push(shares.window(limiterKey.company(pace.company.id), companyCap));
  if (item.sender) list.push(shares.window(limiterKey.sender(item.sender.id), item.sender.maxPerSecond));
  return list;
}

export async function runRound(pace: Pace, ready: readonly PreparedSend[]): Promise<RoundResult> {
  const { sql, provider, scope } = pace;
  const { lease } = scope;
  const timeOf = (items: readonly PreparedSend[]) =>
    timeSends(sql, items, {
      account: pace.account,
      company: pace.company,
      headroom: pace.headroom,
      slowdown: pace.slowdown,
      leadMs: FIRST_SLOT_LEAD_MS,
    });
  const buffer = createOutcomeBuffer(sql, scope);
  const result: RoundResult = {
    notSent: [],
    unresolved: 0,
    sawUnavailable: false,
    sent: 0,
    failed: 0,
    held: 0,
    late: 0,
  };
  let consecutiveUnavailable = 0;
  const inflight = new Set<Promise<void>>();
  const send = provider.send as (input: ChannelInput[keyof ChannelInput]) => ReturnType<AnyProvider['send']>;

  const sendOne = async (item: PreparedSend, release: () => void) => {
    const id = item.message.id;
    try {
      // the last moment to find the lease gone: past it the request is on its way
      lease.check();
      buffer.add({ kind: 'sent', id, result: await send(item.input) });
      consecutiveUnavailable = 0;
    } catch (err) {
      if (err instanceof LeaseLost) {
        result.stop ??= 'lost';
        setAside(item);
      } else if (!(err instanceof ProviderError)) {
        // anything else is a crash between call and record: the message stays 'sending' for reconciliation
        result.stop ??= 'crashed';
        result.crash ??= err;
        result.unresolved++;
      } else if (err.kind === 'rejected') {
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
    } finally {
      release();
    }
  };

  /**
   * Sends at the slot, or as soon after it as the send windows allow. A late send needs no new slot:
   * the windows keep it from crowding any second past a cap.
   */
  function setAside(item: PreparedSend) {
    buffer.add({ kind: 'retry', id: item.message.id, reason: `waiting: the batch paused (${result.stop})` });
    result.notSent.push(item);
  }
  const stopping = () => {
    if (lease.signal.aborted) result.stop ??= 'lost';
    return result.stop;
  };
  /**
   * A chunk's sends count in their windows' needs from their claim until they start, are set aside or
   * turn out not to be claimed: a process's share of a cap grows for a chunk before its sends are due
   * (window-shares.ts). Their times are reserved later, slice by slice; until they start they are
   * taken as due as early as the rate allows.
   */
  const announced = new Map<PreparedSend, number>();
  /** `due`: on the windows' clock (performance.now) */
  const announce = (item: PreparedSend, due: number) => {
    announced.set(item, due);
    for (const w of windowsOf(pace, item)) w.announce(due);
  };
  const settle = (item: PreparedSend) => {
    const due = announced.get(item);
    if (due === undefined) return;
    announced.delete(item);
    for (const w of windowsOf(pace, item)) w.settle(due);
  };
  const launch = async (item: TimedSend) => {
    try {
      await launchAnnounced(item);
    } finally {
      settle(item);
    }
  };
  const launchAnnounced = async (item: TimedSend) => {
    if (stopping()) return setAside(item);
    const wait = item.at - Date.now();
    if (wait >= 1) await pause(wait, lease.signal);
    while (inflight.size >= MAX_IN_FLIGHT) await Promise.race(inflight);
    // a 429, an outage or the loss of the lease may have come while this one waited for its slot
    if (stopping()) return setAside(item);
    const release = await enterWindows(windowsOf(pace, item), lease.signal);
    if (!release) {
      stopping();
      return setAside(item);
    }
    if (Date.now() - item.at > LATE_MS) result.late++;
    const p: Promise<void> = sendOne(item, release).finally(() => inflight.delete(p));
    inflight.add(p);
  };

  const queue = [...ready];
  const rate = pace.account.maxPerSecond * (1 - pace.headroom) * pace.slowdown;
  const chunkSize = Math.min(MAX_CLAIM, Math.max(1, Math.round((rate * CHUNK_MS) / 1000)));

  const sliceSize = Math.max(1, Math.round((chunkSize * SLICE_MS) / CHUNK_MS));

  /** Claims the next chunk; its slots are reserved slice by slice as it is sent. */
  const nextChunk = async (): Promise<PreparedSend[] | undefined> => {
    if (stopping()) {
      result.notSent.push(...queue.splice(0));
      return undefined;
    }
    const fresh = queue.splice(0, chunkSize);
    if (!fresh.length) return undefined;
    // announced before the claim, not after it: a share the windows lack (a batch's first, on a
    // process that sent nothing for a while) is then asked for while the chunk is claimed, and the
    // first send need not wait for the renewal's transaction after the claim's
    const now = performance.now();
    fresh.forEach((item, i) => announce(item, now + (i * 1000) / rate));
    // claimed first, slots second: a slow claim then delays the chunk, it cannot make it miss its slots
    let claim;
    try {
      claim = await claimMessages(sql, scope, fresh.map(candidateOf));
    } catch (err) {
      fresh.forEach(settle);
      if (!(err instanceof LeaseLost)) throw err;
      // nothing of this chunk was claimed: it stays scheduled
      result.stop ??= 'lost';
      result.notSent.push(...fresh, ...queue.splice(0));
      return undefined;
    }
    result.held += claim.held.length;
    const ids = new Set(claim.claimed);
    for (const item of fresh) if (!ids.has(item.message.id)) settle(item);
    return fresh.filter((item) => ids.has(item.message.id));
  };

  /** Reserves the slots of the next slice of a claimed chunk; a round that stopped sets the rest aside. */
  const nextSlice = async (chunk: PreparedSend[]): Promise<TimedSend[] | undefined> => {
    if (!chunk.length) return undefined;
    if (stopping()) {
      for (const item of chunk.splice(0)) setAside(item);
      return undefined;
    }
    const timed = await timeOf(chunk.splice(0, sliceSize));
    // their times are known now: a send that waits past its own is late, and the window says so
    const now = performance.now();
    const clock = Date.now();
    for (const item of timed) {
      settle(item);
      announce(item, now + item.at - clock);
    }
    pace.log.debug(
      { token: scope.token, n: timed.length, first: timed[0]?.at, last: timed.at(-1)?.at },
      'slice reserved',
    );
    return timed;
  };

  let pending: Promise<PreparedSend[] | undefined> | undefined;
  let reserving: Promise<TimedSend[] | undefined> | undefined;
  try {
    pending = nextChunk();
    for (;;) {
      const chunk = await pending;
      if (!chunk) break;
      // the next chunk is claimed while this one is sent, and each slice reserved while the one before it is
      pending = nextChunk();
      reserving = nextSlice(chunk);
      for (;;) {
        const slice = await reserving;
        if (!slice) break;
        reserving = nextSlice(chunk);
        for (const item of slice) await launch(item);
      }
      pace.heartbeat({ ...buffer.counts, held: result.held });
    }
    await pending.catch(() => undefined);
  } finally {
    // a round that broke off leaves reserved slots unsent: no window needs their places any more
    await pending?.catch(() => undefined);
    await reserving?.catch(() => undefined);
    for (const item of [...announced.keys()]) settle(item);
    await Promise.all(inflight);
    await buffer.flush();
  }
  result.sent = buffer.counts.sent;
  result.failed = buffer.counts.failed;
  return result;
}
