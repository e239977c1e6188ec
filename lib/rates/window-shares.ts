// This process's shares of every send cap it sends under, leased through Postgres so that the send
// windows of all worker processes of one account together hold each cap strictly.
//
// Each process's window counts against its share (`SendWindow.setShare`), and in one transaction per
// renewal, under a lock on the limiter's row, a process grows only into capacity no row holds, so
// the shares never add up to more than the cap. A window's count at a start bounds the process's
// arrivals in any second around it (send-window.ts), and a share is given back only as far as the
// window no longer counts it: so in any second the arrivals of all processes stay within shares that
// were held at one moment, hence within the cap (fair-share.ts `nextShare`).
//
// How the cap is split follows what each window needs a moment ahead (fair-share.ts): the sends it will
// still count, those waiting, and those announced as due (the pacer announces a chunk's sends when it
// claims them). A window short of places, or one giving back more than it may yet, renews every
// SHORT_RENEW_MS, so places move as fast as the giver's window drains.
//
// Leases: a process renews every RENEW_MS; its share is valid for LEASE_MS from the moment it sent
// the renewal (the database wrote the expiry later, by its own clock, so ours runs out first). A
// process that cannot renew stops starting sends. Another may take an expired share only after its
// grace: the longest a request may take, the second it counts in, and a margin for a stalled event
// loop. A process killed outright thus hands its share over after LEASE_MS plus the grace.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import type { Sql, TransactionSql } from '../db';
import { nextShare, type Holding } from './fair-share';
import { SendWindow } from './send-window';

const RENEW_MS = 250;
/**
 * While a window needs more than its share, or gives back a share larger than its count allows yet,
 * it renews this often: a share moves from a process whose sends thinned out to one whose sends
 * thickened as fast as the giver's window drains, not a renewal period later.
 */
const SHORT_RENEW_MS = 50;
const LEASE_MS = 3000;
/** A window with no share that nobody wanted a place in for this long is forgotten. */
const IDLE_MS = 1500;
/** A remainder too small to split goes round among the wanting processes this often. */
const ROTATE_MS = 10_000;
/** Beyond a request's timeout and its second: a stalled event loop, a request late onto the wire. */
const GRACE_MARGIN_MS = 1000;

interface Limiter {
  key: string;
  cap: number;
  window: SendWindow;
  /** what our row holds, as last written */
  have: number;
}

export class WindowShares {
  readonly holder = randomUUID();
  private readonly limiters = new Map<string, Limiter>();
  private graceMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** performance.now when the last renewal ended */
  private renewed = -Infinity;
  private failing = false;
  private closed = false;

  constructor(
    private readonly sql: Sql,
    private readonly log: Logger,
    requestTimeoutMs: number,
  ) {
    this.graceMs = graceFor(requestTimeoutMs);
  }

  /** Requests may take this long from now on: an expired share of ours waits that much longer before others take it. */
  allowRequests(requestTimeoutMs: number): void {
    this.graceMs = Math.max(this.graceMs, graceFor(requestTimeoutMs));
  }

  /** The window of a limiter, counting against this process's share of `perSecond` (asked for on first want). */
  window(key: string, perSecond: number): SendWindow {
    // a cap under one a second is spaced by the send times; a one-second window can hold only whole sends
    const cap = Math.max(1, Math.floor(perSecond));
    let limiter = this.limiters.get(key);
    if (!limiter) {
      const window = new SendWindow(cap);
      window.setShare(0, -Infinity);
      window.onShort = () => this.renewSoon(SHORT_RENEW_MS);
      limiter = { key, cap, window, have: 0 };
      this.limiters.set(key, limiter);
    }
    limiter.cap = cap;
    return limiter.window;
  }

  /** Each cap this process sends under: the cap, its share now, and its sends in the last second (for /metrics). */
  snapshot(): WindowSnapshot[] {
    const now = performance.now();
    return [...this.limiters.values()].map((l) => ({
      key: l.key,
      cap: l.cap,
      share: l.window.room(now),
      sendsLastSecond: l.window.used(now),
    }));
  }

  /** Renews now, or right after the renewal under way; no sooner than `gapMs` after the last one ended. */
  private renewSoon(gapMs = 0): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const wait = this.renewed + gapMs - performance.now();
    if (wait > 0) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.renewSoon(), wait);
      this.timer.unref();
      return;
    }
    clearTimeout(this.timer);
    this.running = this.renew()
      .catch((err: unknown) => {
        if (!this.failing)
          this.log.warn({ err }, 'send window shares: renewal failed; sends stop when the lease runs out');
        this.failing = true;
        return false;
      })
      .then((short) => {
        this.running = undefined;
        this.renewed = performance.now();
        if (this.closed || !this.limiters.size) return;
        if (this.again) {
          this.again = false;
          this.renewSoon(SHORT_RENEW_MS);
        } else {
          this.timer = setTimeout(() => this.renewSoon(), short ? SHORT_RENEW_MS : RENEW_MS);
          this.timer.unref();
        }
      });
  }

  /** Renews every share; true if a window still needs more than it holds or gives back more than it may yet. */
  private async renew(): Promise<boolean> {
    const limiters = [...this.limiters.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
    if (!limiters.length) return false;
    const keys = limiters.map((l) => l.key);
    // the lease is ours from before the database wrote it
    const sentAt = performance.now();
    const written = (await this.sql.begin(async (t) => {
      const tx = t as TransactionSql;
      await tx`insert into send_window_limits ${tx(keys.map((key) => ({ key })))} on conflict (key) do nothing`;
      // limiter rows locked in key order: renewals over overlapping keys never deadlock
      await tx`select key from send_window_limits where key in ${tx(keys)} order by key for update`;
      await tx`
        delete from send_window_shares
        where key in ${tx(keys)} and expires_at + grace_ms * interval '1 millisecond' < clock_timestamp()`;
      const rows = await tx<(Holding & { key: string; db_now_ms: number })[]>`
        select key, holder, have, wants, needs, coming, expires_at < clock_timestamp() as expired,
               extract(epoch from clock_timestamp())::float8 * 1000 as db_now_ms
        from send_window_shares where key in ${tx(keys)}`;
      const turn = Math.floor((rows[0]?.db_now_ms ?? Date.now()) / ROTATE_MS);
      const now = performance.now();
      const next = limiters.map((l) => {
        const demand = l.window.demand(now);
        const share = nextShare({
          cap: l.cap,
          holdings: rows.filter((r) => r.key === l.key),
          holder: this.holder,
          used: l.window.used(now),
          ...demand,
          turn,
        });
        // a smaller share holds from now on, before the database hears of it
        if (share.limit < l.window.room(now)) l.window.setShare(share.limit);
        return { limiter: l, ...demand, ...share };
      });
      const kept = next.filter((n) => n.have > 0 || n.wants);
      const dropped = next.filter((n) => !(n.have > 0 || n.wants)).map((n) => n.limiter.key);
      if (dropped.length) {
        await tx`delete from send_window_shares where holder = ${this.holder} and key in ${tx(dropped)}`;
      }
      if (kept.length) {
        await tx`
          insert into send_window_shares (key, holder, have, needs, coming, wants, expires_at, grace_ms)
          select v.key, ${this.holder}::text, v.have, v.needs, v.coming, v.wants,
                 clock_timestamp() + ${LEASE_MS}::int * interval '1 millisecond', ${this.graceMs}::int
          from unnest(${tx.array(kept.map((n) => n.limiter.key))}::text[],
                      ${tx.array(kept.map((n) => n.have))}::int[],
                      ${tx.array(kept.map((n) => n.needs))}::int[],
                      ${tx.array(kept.map((n) => n.coming))}::int[],
                      ${tx.array(kept.map((n) => n.wants))}::boolean[]) as v(key, have, needs, coming, wants)
          on conflict (key, holder) do update
          set have = excluded.have, needs = excluded.needs, coming = excluded.coming, wants = excluded.wants,
              expires_at = excluded.expires_at, grace_ms = excluded.grace_ms`;
      }
      return next;
    })) as { limiter: Limiter; needs: number; coming: number; wants: boolean; have: number; limit: number }[];
    if (this.failing) this.log.info('send window shares: renewed again');
    this.failing = false;
    const now = performance.now();
    let short = false;
    for (const { limiter, have, limit, needs, wants } of written) {
      limiter.have = have;
      limiter.window.setShare(limit, sentAt + LEASE_MS);
      short ||= (wants && needs > limit) || have > limit;
      // a window with no share, no sends and nothing counted is forgotten; a later send starts a fresh one
      if (!have && !needs && now - limiter.window.lastWanted >= IDLE_MS) this.limiters.delete(limiter.key);
    }
    return short;
  }

  /**
   * Stops renewing and gives every share back once this process's windows count nothing (at most
   * the grace); for a worker's shutdown, after its sends are over. Shares not given back expire.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
    const limiters = [...this.limiters.values()];
    for (const l of limiters) l.window.setShare(0);
    const deadline = performance.now() + this.graceMs;
    while (limiters.some((l) => l.window.used(performance.now()) > 0) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (limiters.some((l) => l.window.used(performance.now()) > 0)) return;
    await this.sql`delete from send_window_shares where holder = ${this.holder}`;
  }
}

const graceFor = (requestTimeoutMs: number) => requestTimeoutMs + 1000 + GRACE_MARGIN_MS;

const shares = new WeakMap<Sql, WindowShares>();

/** The process's shares through one database connection pool, made on first use. */
export function windowShares(sql: Sql, log: Logger, requestTimeoutMs: number): WindowShares {
  let found = shares.get(sql);
  if (!found) shares.set(sql, (found = new WindowShares(sql, log, requestTimeoutMs)));
  else found.allowRequests(requestTimeoutMs);
  return found;
}

export interface WindowSnapshot {
  key: string;
  cap: number;
  share: number;
  sendsLastSecond: number;
}

/** The caps this process sends under through `sql`, as they stand (none before its first send). */
export function windowSharesSnapshot(sql: Sql): WindowSnapshot[] {
  return shares.get(sql)?.snapshot() ?? [];
}

/** Gives back the shares held through `sql`, if any (a worker's shutdown). */
export async function releaseWindowShares(sql: Sql): Promise<void> {
  await shares.get(sql)?.close();
  shares.delete(sql);
}
