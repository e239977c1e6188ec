// The shared send schedule: reserve runs of evenly spaced send times per limiter, so caps hold across workers.
import type { Sql } from '../db';

export interface SlotRun {
  /** local epoch ms of the first reserved slot */
  first: number;
  /** ms between slots */
  interval: number;
  count: number;
}

/** Limiter keys, one namespace per kind of cap. */
export const limiterKey = {
  account: (accountKey: string) => `account:${accountKey}`,
  sender: (senderId: number) => `sender:${senderId}`,
  company: (companyId: number) => `company:${companyId}`,
};

/**
 * Reserves `count` consecutive slots at `perSecond` (a generic cell-rate algorithm with no burst:
 * an idle limiter starts from now, never from a backlog of unused seconds). One row update per
 * reservation, so many dispatchers can share a limiter without contention worth measuring.
 */
export async function reserveSlots(sql: Sql, key: string, count: number, perSecond: number): Promise<SlotRun> {
  const interval = 1000 / perSecond;
  await sql`insert into send_rate_slots (key) values (${key}) on conflict (key) do nothing`;
  const [row] = await sql<{ next_ms: number; db_now_ms: number }[]>`
    update send_rate_slots
    set next_at = greatest(next_at, clock_timestamp()) + ${count * interval} * interval '1 millisecond'
    where key = ${key}
    returning extract(epoch from next_at)::float8 * 1000 as next_ms,
              extract(epoch from clock_timestamp())::float8 * 1000 as db_now_ms`;
  // the database's clock decides the schedule; convert to this process's clock for the timers
  const offset = Date.now() - row!.db_now_ms;
  return { first: row!.next_ms - count * interval + offset, interval, count };
}

/** Pushes a limiter's next free slot to at least `until` (local ms): every dispatcher sharing it backs off. */
export async function pauseLimiter(sql: Sql, key: string, untilMs: number): Promise<void> {
  const delayMs = Math.max(0, untilMs - Date.now());
  await sql`
    update send_rate_slots set next_at = greatest(next_at, clock_timestamp() + ${delayMs} * interval '1 millisecond')
    where key = ${key}`;
}

export const slotTime = (run: SlotRun, i: number) => run.first + i * run.interval;
