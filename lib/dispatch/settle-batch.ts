// After a batch gave up on its account: settle what it left in 'sending' and say which messages are safe to send elsewhere.
import type { Sql } from '../db';
import type { ProviderRegistry } from '../providers/registry';
import { loadBatchContext, reconcileOwn, type BatchRef } from './batch-context';
import { recordOutcomes } from './record';

export interface SettledBatch {
  /** found at the provider after all */
  sent: number;
  /** the provider may have them and cannot say: left for an operator */
  unknown: number;
  /** provably never accepted: these may go to a fallback account */
  retryable: number[];
}

export async function settleBatch(
  sql: Sql,
  providers: ProviderRegistry,
  ref: BatchRef,
  sleep: (ms: number) => Promise<void>,
): Promise<SettledBatch> {
  const ctx = await loadBatchContext(sql, providers, ref);
  // the account is failing, so a lookup that fails too settles the message as unknown: never guess
  const settled = await reconcileOwn(sql, providers, ctx, 'unknown', sleep);
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
}
