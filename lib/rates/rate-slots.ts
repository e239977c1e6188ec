// Shared send times: every send time is reserved jointly from all the limiters it falls under,
// so an account's, a sender number's and a company's caps hold across workers and within each second.
import type { Sql, TransactionSql } from '../db';

/** Limiter keys, one namespace per kind of cap. */
export const limiterKey = {
  account: (accountKey: string) => `account:${accountKey}`,
  sender: (senderId: number) => `sender:${senderId}`,
  company: (companyId: number) => `company:${companyId}`,
};

export interface Limit {
  key: string;
  perSecond: number;
}

/**
 * The database clock minus ours, as well as we can tell. A reply tells us the database's time plus
 * however long the reply took to arrive, so the smallest difference seen is the truest; one taken
 * from a slow reply would shift that reservation's slots late and squeeze them against the next
 * reservation's. The estimate is renewed each minute so clock drift between hosts cannot pile up.
 */
const clock = { offset: Infinity, since: 0 };
function localOffset(measured: number): number {
  const now = Date.now();
  if (measured < clock.offset || now - clock.since > 60_000) {
    clock.offset = measured;
    clock.since = now;
  }
  return clock.offset;
}

/**
 * A few quick samples before the first reservation, so even that one gets a true offset. A send
 * worker calls it when it starts: its first batch's first text then waits for none of them.
 */
export async function calibrateClock(sql: Sql): Promise<void> {
  if (clock.offset !== Infinity) return;
  for (let i = 0; i < 5; i++) {
    const [row] = await sql<
      { db_now_ms: number }[]
    >`select extract(epoch from clock_timestamp())::float8 * 1000 as db_now_ms`;
    localOffset(Date.now() - row!.db_now_ms);
  }
}

/** Whether this process knows the database's clock yet (a reservation would calibrate first). */
export const clockCalibrated = (): boolean => clock.offset !== Infinity;

/**
 * Reserves one send time per entry, each under all of its limits (a generic cell-rate algorithm
 * per limiter, with no burst: an idle limiter starts from now, never from unused past seconds).
 * A message goes at the first time every one of its limiters is free, and that time is then taken
 * from each of them: reserving from each limiter on its own and sending at the latest of the times
 * would let a message delayed by one limiter go out late in another, next to that limiter's
 * on-time messages, and crowd its second. `leadMs` leaves an idle limiter's first slot far enough
 * out for the claim that precedes it. Returns local epoch ms, in entry order.
 */
export async function reserveSendTimes(sql: Sql, entries: readonly Limit[][], leadMs = 0): Promise<number[]> {
  if (!entries.length) return [];
  await calibrateClock(sql);
  const keys = [...new Set(entries.flat().map((l) => l.key))].sort();
  return (await sql.begin(async (t) => {
    const tx = t as TransactionSql;
    await tx`insert into send_rate_slots ${tx(keys.map((key) => ({ key })))} on conflict (key) do nothing`;
    // rows locked in key order: concurrent reservations over overlapping limiters never deadlock
    const rows = await tx<{ key: string; next_ms: number; db_now_ms: number }[]>`
      select key, extract(epoch from next_at)::float8 * 1000 as next_ms,
             extract(epoch from clock_timestamp())::float8 * 1000 as db_now_ms
      from send_rate_slots where key in ${tx(keys)} order by key for update`;
    const dbNow = rows[0]!.db_now_ms;
    const next = new Map(rows.map((r) => [r.key, Math.max(r.next_ms, dbNow + leadMs)]));
    const times = entries.map((limits) => {
      const at = Math.max(...limits.map((l) => next.get(l.key)!));
      for (const l of limits) next.set(l.key, at + 1000 / l.perSecond);
      return at;
    });
    await tx`
      update send_rate_slots s set next_at = to_timestamp(v.ms / 1000)
      from unnest(${tx.array([...next.keys()])}::text[], ${tx.array([...next.values()])}::float8[]) as v(key, ms)
      where s.key = v.key`;
    // the database's clock decides send times; timers run on ours
    const offset = localOffset(Date.now() - dbNow);
    return times.map((at) => at + offset);
  })) as number[];
}

/** Pushes a limiter's next free slot to at least `until` (local ms): every dispatcher sharing it backs off. */
export async function pauseLimiter(sql: Sql, key: string, untilMs: number): Promise<void> {
  const delayMs = Math.max(0, untilMs - Date.now());
  await sql`
    update send_rate_slots set next_at = greatest(next_at, clock_timestamp() + ${delayMs} * interval '1 millisecond')
    where key = ${key}`;
}
