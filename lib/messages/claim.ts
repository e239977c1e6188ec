// The claim: moves messages to 'sending' in their own committed transaction, reserving credits and plan quota, or holds them with a reason.
import type { Sql, TransactionSql } from '../db';
import type { SendLease } from '../send-lease';
import type { Channel } from '../providers/types';
import { moveMessages } from './move';

/** A company's plan limits (company_plans): what a claim counts against, and the caps of its sends. */
export interface PlanLimits {
  maxPerDay: number | null;
  maxPerMonth: number | null;
  maxSmsSegments: number;
  maxSendsPerSecond: number | null;
}

/** What a claim needs of the company it claims for. */
export interface ClaimingCompany {
  id: number;
  timezone: string;
  plan: PlanLimits;
}

export interface ClaimCandidate {
  id: number;
  cost: number;
  to: string;
  from: string | null;
  segments: number | null;
  encoding: string | null;
}

export interface ClaimScope {
  company: ClaimingCompany;
  channel: Channel;
  /** the send batch that owns what it claims (its lease's token), the same on every attempt */
  token: string;
  provider: string;
  accountKey: string;
  /** this attempt's hold on the batch: a claim commits only while it is still the holder */
  lease: SendLease;
}

export interface ClaimResult {
  claimed: number[];
  held: { id: number; reason: string }[];
}

interface Counters {
  day: number;
  month: number;
}

/** Today's and this month's claims for the company, created at 0 and locked for this transaction. */
async function lockCounters(
  tx: TransactionSql,
  companyId: number,
  channel: Channel,
  timezone: string,
): Promise<Counters> {
  await tx`
    insert into company_send_counters (company_id, channel, period, period_start)
    values (${companyId}, ${channel}, 'day', (now() at time zone ${timezone})::date),
           (${companyId}, 'all', 'month', date_trunc('month', now() at time zone ${timezone})::date)
    on conflict do nothing`;
  const rows = await tx<{ period: string; claimed: number }[]>`
    select period, claimed from company_send_counters
    where company_id = ${companyId}
      and ((channel = ${channel} and period = 'day' and period_start = (now() at time zone ${timezone})::date)
        or (channel = 'all' and period = 'month' and period_start = date_trunc('month', now() at time zone ${timezone})::date))
    for update`;
  return {
    day: rows.find((r) => r.period === 'day')?.claimed ?? 0,
    month: rows.find((r) => r.period === 'month')?.claimed ?? 0,
  };
}

/** Adds (or gives back, with a negative n) claims to the counters of the day and month a message was claimed in. */
export async function adjustCounters(
  tx: TransactionSql,
  companyId: number,
  channel: Channel,
  timezone: string,
  claimedAt: Date,
  n: number,
): Promise<void> {
  if (n === 0) return;
  await tx`
    update company_send_counters set claimed = greatest(0, claimed + ${n})
    where company_id = ${companyId}
      and ((channel = ${channel} and period = 'day' and period_start = (${claimedAt}::timestamptz at time zone ${timezone})::date)
        or (channel = 'all' and period = 'month'
            and period_start = date_trunc('month', ${claimedAt}::timestamptz at time zone ${timezone})::date))`;
}

/** Decides, in order, which candidates fit the credits and the plan; the rest are held with the reason. */
function decide(
  scope: ClaimScope,
  candidates: readonly ClaimCandidate[],
  available: number,
  counters: Counters,
) {
  const { plan } = scope.company;
  const send: ClaimCandidate[] = [];
  const held: { id: number; reason: string }[] = [];
  let credits = available;
  let day = counters.day;
  let month = counters.month;
  for (const c of candidates) {
    if (plan.maxPerDay !== null && day >= plan.maxPerDay) {
      held.push({
        id: c.id,
        reason: `held: plan limit of ${plan.maxPerDay} ${scope.channel} messages a day reached`,
      });
    } else if (plan.maxPerMonth !== null && month >= plan.maxPerMonth) {
      held.push({ id: c.id, reason: `held: plan limit of ${plan.maxPerMonth} messages a month reached` });
    } else if (c.cost > credits) {
      held.push({
        id: c.id,
        reason: `held: not enough credits (${credits.toFixed(2)} left, ${c.cost.toFixed(2)} needed)`,
      });
    } else {
      send.push(c);
      credits -= c.cost;
      day++;
      month++;
    }
  }
  return { send, held };
}

/** The optimistic claim lost a race for credits or quota: claim again under the locks. */
class ClaimConflict extends Error {}

/**
 * Every batch of a company claims against the same balance and counters, so the usual path reads
 * them without locks, decides, and then takes the rows only for one guarded update each right
 * before the commit; only when a guard fails (credits or quota ran out meanwhile) does it claim
 * again holding the locks from the start, where the decisions are exact.
 */
export async function claimMessages(
  sql: Sql,
  scope: ClaimScope,
  candidates: readonly ClaimCandidate[],
): Promise<ClaimResult> {
  if (candidates.length === 0) return { claimed: [], held: [] };
  try {
    return await claimOptimistically(sql, scope, candidates);
  } catch (err) {
    if (!(err instanceof ClaimConflict)) throw err;
    return claimLocked(sql, scope, candidates);
  }
}

/**
 * scheduled -> sending for the chosen ones, with the claim details; returns what was claimed, which
 * may be fewer than asked: two triggers skip a row of this UPDATE (it stays 'scheduled', and is not
 * returned) whatever the checks before said: messages_opted_out_claim when the contact has opted out
 * of the channel since, messages_quiet_hours_claim when the message's send_by has passed
 * (schemas/README.md). Credits and quota are reserved for the returned rows only.
 */
async function markSending(tx: TransactionSql, scope: ClaimScope, send: readonly ClaimCandidate[]) {
  return tx<{ id: number; credits: string }[]>`
    update messages m
    set state = 'sending', attempts = m.attempts + 1, sending_at = now(), dispatch_token = ${scope.token},
        claimed_by = ${scope.lease.holder},
        provider = ${scope.provider}, provider_account = ${scope.accountKey}, status_description = null,
        to_address = v.to_address, credits = v.cost,
        -- '' and -1 stand for "none": arrays of the same length keep the unnest aligned
        from_address = nullif(v.from_address, ''), segments = nullif(v.segments, -1), encoding = nullif(v.encoding, '')
    from unnest(${tx.array(send.map((c) => c.id))}::bigint[], ${tx.array(send.map((c) => c.cost))}::numeric[],
                ${tx.array(send.map((c) => c.to))}::text[], ${tx.array(send.map((c) => c.from ?? ''))}::text[],
                ${tx.array(send.map((c) => c.segments ?? -1))}::int[], ${tx.array(send.map((c) => c.encoding ?? ''))}::text[])
         as v(id, cost, to_address, from_address, segments, encoding)
    where m.id = v.id and m.company_id = ${scope.company.id} and m.state = 'scheduled'
    returning m.id, m.credits`;
}

async function claimOptimistically(
  sql: Sql,
  scope: ClaimScope,
  candidates: readonly ClaimCandidate[],
): Promise<ClaimResult> {
  const companyId = scope.company.id;
  const tz = scope.company.timezone;
  // in the same statement the day's and month's counter rows come to exist before the transaction
  // (taking no lock on them); the reads do not see a row it inserts, which counts 0 claims
  const [now] = await sql<{ available: string | null; day: number | null; month: number | null }[]>`
    with counters as (
      insert into company_send_counters (company_id, channel, period, period_start)
      values (${companyId}, ${scope.channel}, 'day', (now() at time zone ${tz})::date),
             (${companyId}, 'all', 'month', date_trunc('month', now() at time zone ${tz})::date)
      on conflict do nothing)
    select (select balance - reserved from credit_accounts where company_id = ${companyId}) as available,
           (select claimed from company_send_counters where company_id = ${companyId} and channel = ${scope.channel}
              and period = 'day' and period_start = (now() at time zone ${tz})::date) as day,
           (select claimed from company_send_counters where company_id = ${companyId} and channel = 'all'
              and period = 'month' and period_start = date_trunc('month', now() at time zone ${tz})::date) as month`;
  if (now!.available === null) throw new ClaimConflict();
  const { send, held } = decide(scope, candidates, Number(now!.available), {
    day: now!.day ?? 0,
    month: now!.month ?? 0,
  });
  const { plan } = scope.company;
  return (await sql.begin(async (t) => {
    const tx = t as TransactionSql;
    await scope.lease.hold(tx);
    const claimed = send.length ? await markSending(tx, scope, send) : [];
    if (claimed.length) {
      const reserved = claimed.reduce((sum, c) => sum + Number(c.credits), 0);
      // one statement takes both contended rows, so they stay locked only until the commit right after
      const [guard] = await tx<{ credit: number; counted: number }[]>`
        with credit as (
          update credit_accounts set reserved = reserved + ${reserved}
          where company_id = ${companyId} and balance - reserved >= ${reserved} returning 1),
        counted as (
          update company_send_counters set claimed = claimed + ${claimed.length}
          where company_id = ${companyId} and exists (select 1 from credit)
            and ((channel = ${scope.channel} and period = 'day' and period_start = (now() at time zone ${tz})::date
                  and (${plan.maxPerDay}::int is null or claimed + ${claimed.length} <= ${plan.maxPerDay}::int))
              or (channel = 'all' and period = 'month' and period_start = date_trunc('month', now() at time zone ${tz})::date
                  and (${plan.maxPerMonth}::int is null or claimed + ${claimed.length} <= ${plan.maxPerMonth}::int)))
          returning 1)
        select (select count(*) from credit)::int as credit, (select count(*) from counted)::int as counted`;
      if (guard!.credit !== 1 || guard!.counted !== 2) throw new ClaimConflict();
    }
    const heldRows = held.length ? await holdMessages(tx, companyId, held) : [];
    return { claimed: claimed.map((c) => c.id), held: held.filter((h) => heldRows.includes(h.id)) };
  })) as ClaimResult;
}

async function claimLocked(
  sql: Sql,
  scope: ClaimScope,
  candidates: readonly ClaimCandidate[],
): Promise<ClaimResult> {
  const companyId = scope.company.id;
  return (await sql.begin(async (t) => {
    const tx = t as TransactionSql;
    await scope.lease.hold(tx);
    await tx`insert into credit_accounts (company_id) values (${companyId}) on conflict do nothing`;
    const [credit] = await tx<{ available: string }[]>`
      select balance - reserved as available from credit_accounts where company_id = ${companyId} for update`;
    const counters = await lockCounters(tx, companyId, scope.channel, scope.company.timezone);
    const { send, held } = decide(scope, candidates, Number(credit!.available), counters);

    let claimed: { id: number; credits: string }[] = [];
    if (send.length) {
      claimed = await markSending(tx, scope, send);
      const reserved = claimed.reduce((sum, c) => sum + Number(c.credits), 0);
      await tx`update credit_accounts set reserved = reserved + ${reserved} where company_id = ${companyId}`;
      await adjustCounters(tx, companyId, scope.channel, scope.company.timezone, new Date(), claimed.length);
    }
    const heldRows = held.length ? await holdMessages(tx, companyId, held) : [];
    return { claimed: claimed.map((c) => c.id), held: held.filter((h) => heldRows.includes(h.id)) };
  })) as ClaimResult;
}

/** scheduled -> held with the reason, and an event an operator sees in the message's history. */
async function holdMessages(
  tx: TransactionSql,
  companyId: number,
  held: readonly { id: number; reason: string }[],
): Promise<number[]> {
  const at = Date.now();
  const moved = await moveMessages(
    tx,
    companyId,
    held.map((h) => ({ id: h.id, to: 'held' as const, reason: h.reason })),
    // held again after a release is another event
    { from: ['scheduled'], eventId: (m) => `held:${m.uuid}:${at}` },
  );
  return moved.map((m) => m.id);
}
