// After a batch gave up on its account: settle what it left in 'sending' and say which messages are safe to send elsewhere.
import type { BatchRef } from './batch-context';
import { loadBatchContext, reconcileOwn } from './batch-context';
import { withSendLease, type LeasedBatchDeps } from './leased-batch';
import { recordOutcomes } from './record';

export interface SettledBatch {
  /** found at the provider after all */
  sent: number;
  /** the provider may have them and cannot say: left for an operator */
  unknown: number;
  /** provably never accepted: these may go to a fallback account */
  retryable: number[];
}

/** Takes the batch's lease over like any attempt, so no attempt of it still sends what this settles. */
export function settleBatch(deps: LeasedBatchDeps, ref: BatchRef): Promise<SettledBatch> {
  return withSendLease(deps, ref, async (lease) => {
    const { sql } = deps;
    const ctx = await loadBatchContext(sql, deps.providers, ref, lease);
    // the account is failing, so a lookup that fails too settles the message as unknown: never guess
    const settled = await reconcileOwn(sql, ctx, 'unknown');
    await recordOutcomes(sql, ctx.scope, settled.outcomes);
    const rows = await sql<{ id: number }[]>`
      select id from messages
      where company_id = ${ctx.company.id} and channel = ${ctx.account.channel} and state = 'scheduled'
        and id in ${sql(ref.messageIds)}
      order by id`;
    return {
      sent: settled.outcomes.filter((o) => o.kind === 'sent').length,
      unknown: settled.outcomes.filter((o) => o.kind === 'unknown').length,
      retryable: rows.map((r) => r.id),
    };
  });
}
