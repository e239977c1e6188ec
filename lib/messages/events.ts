// herald's own entries in a message's event history (held, deferred, skipped, expired, cancelled, reconciled...), beside the providers'.
import type { TransactionSql } from '../db';
import type { Channel } from '../providers/types';

export interface MessageEvent {
  messageId: number;
  channel: Channel;
  /** unique per provider 'herald': the same event recorded twice is kept once */
  eventId: string;
  type: string;
  /** the message's state after the event */
  status: string;
  /** why, in words an operator reads */
  reason: string;
}

export async function recordMessageEvents(
  tx: TransactionSql,
  companyId: number,
  events: readonly MessageEvent[],
): Promise<void> {
  if (!events.length) return;
  await tx`
    insert into message_updates ${tx(
      events.map((e) => ({
        message_id: e.messageId,
        company_id: companyId,
        channel: e.channel,
        provider: 'herald',
        provider_event_id: e.eventId,
        event_type: e.type,
        status: e.status,
        payload: { reason: e.reason },
      })),
    )}
    on conflict (provider, provider_event_id) do nothing`;
}
