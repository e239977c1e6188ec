// Applies a provider's delivery event once: message_updates (unique per provider event), the message state, call records, opt-outs.
import type { Sql, TransactionSql } from '../db';
import type { ProviderEvent } from '../providers/types';
import { chargeCallMinutes } from '../messages/charge';
import { recordCalls } from '../dispatch/record';
import { optOut } from '../reminders/consent';
import { applyToArchived } from './archived-events';
import { applyPendingEvents, keepPendingEvent } from './pending-events';
import type { Channel } from '../reminders/quiet-hours';

export interface EventTarget {
  id: number;
  companyId: number;
  contactId: number;
  appointmentId: number | null;
  channel: Channel;
  state: string;
}

export type ApplyOutcome =
  /** the event was new and is recorded (the state moved if the state machine allows it) */
  | { kind: 'applied'; message: EventTarget; state: string }
  /** the same event came before: nothing was written */
  | { kind: 'duplicate'; message: EventTarget }
  /** the message is archived: the event went to its history row (see archived-events) */
  | { kind: 'archived'; message: EventTarget; state: string; duplicate: boolean }
  /** no message has that provider id yet: the event is kept until dispatch records it (see pending-events) */
  | { kind: 'pending'; duplicate: boolean }
  /** the event names no provider message id at all */
  | { kind: 'unknown' };

/**
 * The local outbox stands in for Twilio and SES in the embedded mode, so callbacks shaped like
 * theirs find outbox messages too; `providers` lists whose message ids a route may name.
 */
export async function findMessage(
  tx: Sql | TransactionSql,
  providers: readonly string[],
  providerMessageId: string,
  table: 'messages' | 'messages_history' = 'messages',
): Promise<EventTarget | undefined> {
  if (!providerMessageId) return undefined;
  const [row] = await tx<EventTarget[]>`
    select id, company_id as "companyId", contact_id as "contactId", appointment_id as "appointmentId", channel, state
    from ${tx(table)} where provider in ${tx(providers as string[])} and provider_message_id = ${providerMessageId}
    limit 1
    -- the archive locks the rows it moves: an event waits for it and then finds the message in history
    for no key update`;
  return row;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The message a callback names by our own id (?m=), with the vendor id recorded on it (null: none yet). */
export async function findByOwnId(
  tx: TransactionSql,
  providers: readonly string[],
  ownId: string | undefined,
): Promise<(EventTarget & { providerMessageId: string | null }) | undefined> {
  if (!ownId || !UUID.test(ownId)) return undefined;
  const [row] = await tx<(EventTarget & { providerMessageId: string | null })[]>`
    select id, company_id as "companyId", contact_id as "contactId", appointment_id as "appointmentId", channel, state,
           provider_message_id as "providerMessageId"
    from messages where uuid = ${ownId} and provider in ${tx(providers as string[])}
    for no key update`;
  return row;
}

/**
 * A status callback for a message dispatch recorded as sent without the vendor's id (a
 * reconciliation that found as many calls as messages to one phone and could not tell them apart):
 * the callback's own id says which it is, and the vendor id is written now. One still in 'sending'
 * or 'unknown' is recorded by dispatch, which charges it: the event waits for that.
 */
async function takeVendorIdByOwnId(
  tx: TransactionSql,
  providers: readonly string[],
  ownId: string | undefined,
  providerMessageId: string,
): Promise<EventTarget | undefined> {
  const found = await findByOwnId(tx, providers, ownId);
  if (!found || found.providerMessageId !== null || found.state === 'sending' || found.state === 'unknown')
    return undefined;
  const { providerMessageId: _none, ...message } = found;
  await tx`update messages set provider_message_id = ${providerMessageId} where id = ${message.id}`;
  if (message.channel === 'voice') await recordCalls(tx, message.companyId, [message.id]);
  return message;
}

/** The provider event's row in message_updates; false when it was already there (a webhook delivered twice). */
export async function recordProviderEvent(
  tx: TransactionSql,
  message: EventTarget,
  provider: string,
  event: ProviderEvent,
): Promise<boolean> {
  const inserted = await tx`
    insert into message_updates (message_id, company_id, channel, provider, provider_event_id, event_type, status, payload)
    values (${message.id}, ${message.companyId}, ${message.channel}, ${provider}, ${event.eventId}, ${event.eventType},
            ${event.state ?? null}, ${tx.json(event.payload as never)})
    on conflict (provider, provider_event_id) do nothing
    returning id`;
  return inserted.length > 0;
}

/** Moves the message where the event says, when the SQL state machine allows it (a late 'sent' never undoes 'delivered'). */
export async function moveMessage(
  tx: TransactionSql,
  message: EventTarget,
  event: ProviderEvent,
  table: 'messages' | 'messages_history' = 'messages',
): Promise<string> {
  if (!event.state) return message.state;
  const description = event.errorCode
    ? `${event.eventType}: provider error ${event.errorCode}`
    : event.eventType;
  const [row] = await tx<{ state: string }[]>`
    update ${tx(table)} m
    set state = ${event.state}, last_event_at = now(),
        delivered_at = case when ${event.state} = 'delivered' then coalesce(m.delivered_at, now()) else m.delivered_at end,
        status_description = case when ${event.state} in ('failed', 'undelivered') then ${description} else m.status_description end,
        duration_seconds = coalesce(${event.durationSeconds ?? null}::int, m.duration_seconds)
    where m.id = ${message.id}
      and (m.state = ${event.state}
           or exists (select 1 from message_state_transitions t where t.from_state = m.state and t.to_state = ${event.state}))
    returning m.state`;
  return row?.state ?? message.state;
}

/** Twilio's call status as the call record's, with its timestamps; a status the call has passed is ignored. */
export async function updateCall(
  tx: TransactionSql,
  message: EventTarget,
  providerCallSid: string,
  event: ProviderEvent,
): Promise<void> {
  const status = String(event.payload.CallStatus ?? '');
  if (!status) return;
  const [call] = await tx<{ id: number; status: string }[]>`
    select id, status from calls where company_id = ${message.companyId} and provider_call_sid = ${providerCallSid} for update`;
  if (!call) return;
  const [moved] = await tx<{ status: string }[]>`
    update calls c
    set status = ${status},
        ringing_at = case when ${status} = 'ringing' then coalesce(c.ringing_at, now()) else c.ringing_at end,
        answered_at = case when ${status} = 'in-progress' then coalesce(c.answered_at, now()) else c.answered_at end,
        ended_at = case when (select final from call_statuses where status = ${status}) then coalesce(c.ended_at, now()) else c.ended_at end,
        duration_seconds = coalesce(${event.durationSeconds ?? null}::int, c.duration_seconds),
        answered_by = coalesce(${(event.payload.AnsweredBy as string | undefined) ?? null}, c.answered_by)
    where c.id = ${call.id}
      and (c.status = ${status}
           or exists (select 1 from call_status_transitions t where t.from_status = c.status and t.to_status = ${status}))
    returning c.status`;
  await tx`
    insert into call_events (call_id, company_id, event_type, from_status, to_status, payload)
    values (${call.id}, ${message.companyId}, ${event.eventType}, ${call.status}, ${moved?.status ?? call.status}, ${tx.json(event.payload as never)})`;
}

/** Records and applies a new event to a live message; 'duplicate' when it came before. */
export async function applyToMessage(
  tx: TransactionSql,
  message: EventTarget,
  opts: { recordAs: string; event: ProviderEvent },
): Promise<Extract<ApplyOutcome, { kind: 'applied' | 'duplicate' }>> {
  if (!(await recordProviderEvent(tx, message, opts.recordAs, opts.event)))
    return { kind: 'duplicate', message };
  const state = await moveMessage(tx, message, opts.event);
  if (message.channel === 'voice') {
    await updateCall(tx, message, opts.event.providerMessageId, opts.event);
    // billing (lib/messages/charge.ts): the minutes past the first, once the completed call reports its duration
    await chargeCallMinutes(tx, message.id, opts.event.durationSeconds);
  }
  await applyConsent(tx, message, opts);
  return { kind: 'applied', message, state };
}

/** The provider says this person cannot or will not receive this channel (Twilio 21610, a hard bounce, a complaint). */
export async function applyConsent(
  tx: TransactionSql,
  message: EventTarget,
  opts: { recordAs: string; event: ProviderEvent },
): Promise<void> {
  if (!opts.event.optOut) return;
  await optOut(tx, {
    companyId: message.companyId,
    contactIds: [message.contactId],
    channels: [message.channel],
    reason: `${opts.event.eventType}${opts.event.errorCode ? ` ${opts.event.errorCode}` : ''} reported by ${opts.recordAs}`,
  });
}

/**
 * One status callback in one transaction, recorded once and applied once: to the live message, else
 * to its archived row, else kept until dispatch records the provider id (the callback overtook it).
 */
export async function applyProviderEvent(
  sql: Sql,
  opts: { providers: readonly string[]; recordAs: string; event: ProviderEvent; ownId?: string },
): Promise<ApplyOutcome> {
  if (!opts.event.providerMessageId) return { kind: 'unknown' };
  const outcome = (await sql.begin(async (t) => {
    const tx = t as TransactionSql;
    const message =
      (await findMessage(tx, opts.providers, opts.event.providerMessageId)) ??
      (await takeVendorIdByOwnId(tx, opts.providers, opts.ownId, opts.event.providerMessageId));
    if (message) return applyToMessage(tx, message, opts);
    const archived = await applyToArchived(tx, opts);
    if (archived) return archived;
    return { kind: 'pending', duplicate: !(await keepPendingEvent(tx, opts)) };
  })) as ApplyOutcome;
  // dispatch may have recorded the id between our lookup and our commit, its notice finding nothing yet
  if (outcome.kind === 'pending')
    await applyPendingEvents(sql, { providerMessageId: opts.event.providerMessageId });
  return outcome;
}
