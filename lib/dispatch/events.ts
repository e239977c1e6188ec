// herald's own entries in a message's event history (held, skipped, failed before sending, reconciled, unknown).
import type { TransactionSql } from '../db';
import type { Channel } from '../providers/types';

/** herald's own events about a message (held, reconciled, unknown), next to the providers' in message_updates. */
export async function recordEvents(
  tx: TransactionSql,
  companyId: number,
  channel: Channel,
  events: readonly { messageId: number; eventId: string; type: string; status: string; detail: string }[],
): Promise<void> {
  if (!events.length) return;
  await tx`
    insert into message_updates ${tx(
      events.map((e) => ({
        message_id: e.messageId,
        company_id: companyId,
        channel,
        provider: 'herald',
        provider_event_id: e.eventId,
        event_type: e.type,
        status: e.status,
        payload: { reason: e.detail },
      })),
    )}
    on conflict (provider, provider_event_id) do nothing`;
}
