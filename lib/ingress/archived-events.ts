// Callbacks for messages the archive has moved to messages_history: recorded there once, applied to the history row and the contact.
import type { TransactionSql } from '../db';
import type { ProviderEvent } from '../providers/types';
import { applyConsent, findMessage, moveMessage, updateCall, type ApplyOutcome } from './provider-events';

/**
 * A late event for an archived message is history too: its row goes to message_updates_history
 * (unique per provider event, ids from message_updates' own sequence), the history row moves as
 * the state machine allows, a call record is updated, and an opt-out, bounce or complaint still
 * marks the contact, because the person's wish outlives the message's retention.
 * Undefined when no archived message has that provider id.
 */
export async function applyToArchived(
  tx: TransactionSql,
  opts: { providers: readonly string[]; recordAs: string; event: ProviderEvent },
): Promise<Extract<ApplyOutcome, { kind: 'archived' }> | undefined> {
  const { event } = opts;
  const message = await findMessage(tx, opts.providers, event.providerMessageId, 'messages_history');
  if (!message) return undefined;
  const inserted = await tx`
    insert into message_updates_history (id, message_id, company_id, channel, provider, provider_event_id, event_type, status, payload)
    values (nextval(pg_get_serial_sequence('message_updates', 'id')), ${message.id}, ${message.companyId}, ${message.channel},
            ${opts.recordAs}, ${event.eventId}, ${event.eventType}, ${event.state ?? null}, ${tx.json(event.payload as never)})
    on conflict (provider, provider_event_id) do nothing
    returning id`;
  if (!inserted.length) return { kind: 'archived', message, state: message.state, duplicate: true };
  const state = await moveMessage(tx, message, event, 'messages_history');
  if (message.channel === 'voice') await updateCall(tx, message, event.providerMessageId, event);
  await applyConsent(tx, message, opts);
  return { kind: 'archived', message, state, duplicate: false };
}
