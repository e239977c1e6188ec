// Ends messages that can never be sent (opted out, no address, no template, too long) before any provider sees them.
import type { Sql, TransactionSql } from '../db';
import type { ClaimScope } from '../messages/claim';
import { recordMessageEvents } from '../messages/events';

/**
 * Ends messages that will never be sent before any provider sees them: skipped ones (opt-out,
 * no address) go straight from scheduled; unrenderable ones pass through 'sending' to 'failed',
 * the only way the state machine lets a message fail.
 */
export async function endUnsendable(
  sql: Sql,
  scope: ClaimScope,
  skips: readonly { id: number; reason: string }[],
  fails: readonly { id: number; reason: string }[],
): Promise<void> {
  if (!skips.length && !fails.length) return;
  const companyId = scope.company.id;
  await sql.begin(async (t) => {
    const tx = t as TransactionSql;
    const apply = async (
      list: readonly { id: number; reason: string }[],
      via: string | null,
      state: string,
    ) => {
      if (!list.length) return;
      const ids = tx.array(list.map((s) => s.id));
      if (via) {
        await tx`
          update messages set state = ${via}, dispatch_token = ${scope.token}, claimed_by = ${scope.lease.holder},
                              sending_at = now()
          where company_id = ${companyId} and id = any(${ids}::bigint[]) and state = 'scheduled'`;
      }
      const rows = await tx<{ id: number; uuid: string }[]>`
        update messages m set state = ${state}, status_description = v.reason, last_event_at = now()
        from unnest(${ids}::bigint[], ${tx.array(list.map((s) => s.reason))}::text[]) as v(id, reason)
        where m.id = v.id and m.company_id = ${companyId} and m.state = ${via ?? 'scheduled'}
          and (${via}::text is null or (m.dispatch_token = ${scope.token} and m.claimed_by = ${scope.lease.holder}))
        returning m.id, m.uuid`;
      const reasons = new Map(list.map((s) => [s.id, s.reason]));
      await recordMessageEvents(
        tx,
        companyId,
        rows.map((r) => ({
          messageId: r.id,
          channel: scope.channel,
          eventId: `${state}:${r.uuid}`,
          type: state,
          status: state,
          reason: reasons.get(r.id) ?? '',
        })),
      );
    };
    await apply(skips, null, 'skipped');
    await apply(fails, 'sending', 'failed');
  });
}
