// The lease one attempt of a send batch holds while it may call the provider: taken over by the next attempt,
// renewed while the attempt lives, checked before every call, fenced so no retry touches what a stale attempt may still send.
//
// Temporal starts a new attempt when the old one stops heartbeating, but the old one may be alive (a
// stalled process, a network cut from Temporal) and go on sending. So:
// - a new attempt takes the lease over at once (send_leases, keyed by the batch's dispatch token);
//   the old one's next renewal fails, and its claims (which check the holder in their transaction)
//   claim nothing more;
// - an attempt calls the provider only while its own clock says the lease is still its: the lease
//   runs from the moment the renewal was sent, so ours ends before the database's;
// - the new attempt touches the 'sending' messages of earlier holders only after fence_until: their
//   expiry plus the grace (the longest a request they started may take to reach the vendor, and a
//   margin for a stalled event loop). By then the vendor has everything they sent, and a lookup that
//   finds nothing proves the message never went.
// Migration 0045 (send_leases) is the table; this module is its only writer.
import { randomUUID } from 'node:crypto';
import type { Sql, TransactionSql } from './db';
import type { Logger } from './log';

/** The attempt may no longer call the provider: another attempt took its batch over, or it was cancelled. */
export class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
}

export interface LeaseTimes {
  /** how long a renewal keeps the lease (the send activity's heartbeat timeout) */
  leaseMs: number;
  /** beyond the expiry: the longest a provider request may take, plus a margin */
  graceMs: number;
}

/** A stalled event loop or a request written to its socket late: beyond the request timeout. */
export const GRACE_MARGIN_MS = 2000;

export const leaseTimes = (heartbeatTimeoutMs: number, requestTimeoutMs: number): LeaseTimes => ({
  leaseMs: heartbeatTimeoutMs,
  graceMs: requestTimeoutMs + GRACE_MARGIN_MS,
});

export class SendLease {
  readonly holder = randomUUID();
  private readonly controller = new AbortController();
  /** performance.now after which the lease may be someone else's */
  private validUntil = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private warned = false;
  /** renewing: between acquire and release (or loss) */
  private active = false;

  constructor(
    private readonly sql: Sql,
    readonly token: string,
    private readonly times: LeaseTimes,
    private readonly log: Logger,
    cancelled?: AbortSignal,
  ) {
    if (cancelled?.aborted) this.lose('the attempt was cancelled');
    cancelled?.addEventListener('abort', () => this.lose('the attempt was cancelled'), { once: true });
  }

  /** Aborted once the lease is lost for good: waits end, no further provider call starts. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Takes the batch's lease (over from any earlier holder) and starts renewing it. Resolves with the
   * milliseconds until every earlier holder's requests have landed (its 'sending' messages may be
   * reconciled only after that), and whether the lease had no row: then no attempt holds it, and none
   * left a message of the batch in 'sending' (a claim commits only under its holder's row, and
   * `release` deletes the row only when none is left in 'sending').
   */
  async acquire(): Promise<{ fenceMs: number; fresh: boolean }> {
    if (this.controller.signal.aborted) this.check();
    const { leaseMs, graceMs } = this.times;
    const sentAt = performance.now();
    const [row] = await this.sql<{ fence_in_ms: number; fresh: boolean }[]>`
      insert into send_leases (token, holder, expires_at, grace_ms)
      values (${this.token}, ${this.holder}, clock_timestamp() + ${leaseMs}::int * interval '1 millisecond', ${graceMs})
      on conflict (token) do update
      set holder = excluded.holder, expires_at = excluded.expires_at, grace_ms = excluded.grace_ms, taken_at = now(),
          fence_until = greatest(send_leases.fence_until,
                                 send_leases.expires_at + send_leases.grace_ms * interval '1 millisecond')
      returning extract(epoch from (greatest(fence_until, clock_timestamp()) - clock_timestamp()))::float8 * 1000
                as fence_in_ms,
                -- a row this statement inserted has no deleting or locking transaction yet
                xmax = 0 as fresh`;
    this.validUntil = sentAt + leaseMs;
    this.active = true;
    this.schedule();
    return { fenceMs: Math.ceil(row!.fence_in_ms), fresh: row!.fresh };
  }

  /** Throws LeaseLost unless the lease is surely still ours: call right before each provider request. */
  check(): void {
    if (this.controller.signal.aborted) throw new LeaseLost(String(this.controller.signal.reason));
    if (performance.now() >= this.validUntil)
      throw new LeaseLost('its lease ran out before it could be renewed');
  }

  /** Inside a claim's or a reconciliation's transaction: the batch is still ours, and stays so until the commit. */
  async hold(tx: TransactionSql): Promise<void> {
    this.check();
    const rows = await tx`
      select 1 from send_leases where token = ${this.token} and holder = ${this.holder} for share`;
    if (!rows.length) {
      this.lose('another attempt of the batch took its lease over');
      this.check();
    }
  }

  /**
   * Stops renewing; call once the attempt makes no more calls. When it left none of the batch's
   * messages in 'sending' the lease goes; otherwise it expires now, and the next holder waits only
   * the grace before it reconciles them.
   */
  async release(companyId: number, messageIds: readonly number[]): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    this.validUntil = -Infinity;
    await this.renewing;
    await this.sql`
      with open as (
        select 1 from messages
        where company_id = ${companyId} and id in ${this.sql(messageIds as number[])}
          and dispatch_token = ${this.token} and state = 'sending'
        limit 1),
      gone as (
        delete from send_leases where token = ${this.token} and holder = ${this.holder}
          and not exists (select 1 from open)
        returning 1)
      update send_leases set expires_at = least(expires_at, clock_timestamp())
      where token = ${this.token} and holder = ${this.holder} and exists (select 1 from open)`;
  }

  private lose(reason: string): void {
    if (this.controller.signal.aborted) return;
    this.active = false;
    clearTimeout(this.timer);
    this.controller.abort(reason);
  }

  /** A few renewals fit in one lease, so one slow round trip never lets it run out. */
  private schedule(): void {
    if (!this.active) return;
    this.timer = setTimeout(() => {
      this.renewing = this.renew().finally(() => {
        this.renewing = undefined;
        this.schedule();
      });
    }, this.times.leaseMs / 4);
  }

  private async renew(): Promise<void> {
    const sentAt = performance.now();
    try {
      const rows = await this.sql`
        update send_leases set expires_at = clock_timestamp() + ${this.times.leaseMs}::int * interval '1 millisecond'
        where token = ${this.token} and holder = ${this.holder}
        returning 1`;
      if (!rows.length) return this.lose('another attempt of the batch took its lease over');
      if (this.active) this.validUntil = sentAt + this.times.leaseMs;
      this.warned = false;
    } catch (err) {
      // the lease runs out on its own if this goes on: the attempt then stops calling the provider
      if (!this.warned) this.log.warn({ err, token: this.token }, 'send lease: renewal failed');
      this.warned = true;
    }
  }
}
