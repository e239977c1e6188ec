// Settles messages left undecided by batches nobody runs any more: 'sending' whose lease ran out, and 'unknown'
// ones the vendor can be asked about again. Reconciles them like a batch's own retry would; never resends.
//
// A batch's own attempts reconcile what it left in 'sending'; but a batch whose workflow was
// terminated, or whose retries ran out while the database was down, leaves its messages there with
// credits reserved and nobody to look at them. The sweep takes each such batch's lease (so no
// attempt of it can still send) and asks the vendor: found, the message is sent and charged; not
// found, it is back to 'scheduled' for the next dispatch; the vendor cannot be asked or cannot
// tell, it stays as it is for the next sweep.
import type { Sql } from '../db';
import { loadAccount, UnknownAccountError } from '../providers/accounts';
import { ProviderConfigError } from '../providers/registry';
import type { Channel } from '../providers/types';
import { loadBatchContext, reconcileOwn, type BatchRef, type Undecided } from './batch-context';
import { withSendLease, type LeasedBatchDeps } from './leased-batch';
import { recordOutcomes } from './record';

const UNDECIDED: Undecided = ['sending', 'unknown'];

/** An 'unknown' message is asked about again at most this often. */
const UNKNOWN_AGAIN_MINUTES = 5;

export interface StrandedBatch extends BatchRef {
  channel: Channel;
  /** the account's send queue, where its credentials are */
  taskQueue: string;
}

export interface SweepResult {
  sent: number;
  /** back to 'scheduled': the vendor never got them */
  rescheduled: number;
  /** still undecided: the vendor could not be asked, or could not tell */
  left: number;
}

/**
 * Batches with undecided messages and no live attempt: no lease, or one whose fence has passed (an
 * attempt that held it cannot send any more, and what it sent has reached the vendor).
 */
export async function findStrandedBatches(
  sql: Sql,
  opts: { limit: number; canLookUp(accountKey: string): Promise<boolean> },
): Promise<StrandedBatch[]> {
  const rows = await sql<
    { company_id: number; channel: Channel; account: string; token: string; ids: number[] }[]
  >`
    select m.company_id, m.channel, m.provider_account as account, m.dispatch_token as token,
           array_agg(m.id order by m.id) as ids
    from messages m
    left join send_leases l on l.token = m.dispatch_token
    where m.state in ('sending', 'unknown') and m.dispatch_token is not null and m.provider_account is not null
      and (m.state = 'sending' or m.last_event_at < now() - make_interval(mins => ${UNKNOWN_AGAIN_MINUTES}))
      and (l.token is null
           or (l.expires_at + l.grace_ms * interval '1 millisecond' < clock_timestamp()
               and coalesce(l.fence_until, '-infinity') < clock_timestamp()))
    group by 1, 2, 3, 4
    order by min(m.sending_at)
    limit ${opts.limit}`;
  const out: StrandedBatch[] = [];
  for (const r of rows) {
    // an account whose vendor cannot be asked (SES) leaves its 'unknown' messages to an operator
    if (!(await opts.canLookUp(r.account))) continue;
    const account = await loadAccount(sql, r.account);
    out.push({
      companyId: r.company_id,
      channel: r.channel,
      accountKey: r.account,
      taskQueue: account.taskQueue,
      token: r.token,
      messageIds: r.ids.map(Number),
    });
  }
  return out;
}

/** Whether the sweep can ask the account's vendor about a message: it has a lookup, and its credentials are here. */
export async function accountCanLookUp(
  deps: Pick<LeasedBatchDeps, 'sql' | 'providers'>,
  accountKey: string,
): Promise<boolean> {
  try {
    return !!deps.providers.forAccount(await loadAccount(deps.sql, accountKey)).lookup;
  } catch (err) {
    if (err instanceof ProviderConfigError || err instanceof UnknownAccountError) return false;
    throw err;
  }
}

/** Reconciles one stranded batch under its lease. */
export function sweepBatch(deps: LeasedBatchDeps, ref: BatchRef): Promise<SweepResult> {
  return withSendLease(
    deps,
    ref,
    async (lease) => {
      const ctx = await loadBatchContext(deps.sql, deps.providers, ref, lease);
      const settled = await reconcileOwn(deps.sql, ctx, 'leave', UNDECIDED);
      await recordOutcomes(deps.sql, ctx.scope, settled.outcomes);
      const count = (kind: string) => settled.outcomes.filter((o) => o.kind === kind).length;
      return {
        sent: count('sent'),
        rescheduled: count('retry'),
        left: settled.unresolved.length + count('unknown'),
      };
    },
    UNDECIDED,
  );
}
