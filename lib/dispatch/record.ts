// Writes what happened to claimed messages: sent (and debited once), failed with a reason, back to scheduled, or unknown.
import type { Sql, TransactionSql } from '../db';
import type { Channel, SendResult } from '../providers/types';
import { chargeCredits } from '../messages/charge';
import { recordMessageEvents } from '../messages/events';
import type { ClaimingCompany } from '../messages/claim';

export type Outcome =
  | { kind: 'sent'; id: number; result: SendResult; reconciled?: boolean }
  /** refused for good; optOut also marks the contact do-not-contact on this channel */
  | { kind: 'failed'; id: number; reason: string; optOut?: boolean }
  /** proved not accepted (429, 503, a refused connection, lookup found nothing): it may be sent again */
  | { kind: 'retry'; id: number; reason: string }
  /** the vendor may or may not have it and cannot tell us: an operator decides */
  | { kind: 'unknown'; id: number; reason: string };

export interface RecordScope {
  company: ClaimingCompany;
  channel: Channel;
  token: string;
  /** only what this attempt claimed (or took on from an earlier one) is written */
  lease: { holder: string };
}

interface Released {
  id: number;
  uuid: string;
  credits: string | null;
  sending_at: Date;
  contact_id: number;
}

const DO_NOT = { sms: 'do_not_sms', voice: 'do_not_call', email: 'do_not_email' } as const;

/** Gives back plan quota for messages that were claimed but not sent, on the day each was claimed. */
async function releaseQuota(
  tx: TransactionSql,
  scope: RecordScope,
  claimedAt: readonly Date[],
): Promise<void> {
  if (!claimedAt.length) return;
  const tz = scope.company.timezone;
  const at = tx.array(claimedAt.map((d) => d.toISOString()));
  await tx`
    update company_send_counters c set claimed = greatest(0, c.claimed - g.n)
    from (select (t at time zone ${tz})::date as d, count(*)::int as n from unnest(${at}::timestamptz[]) t group by 1) g
    where c.company_id = ${scope.company.id} and c.channel = ${scope.channel} and c.period = 'day' and c.period_start = g.d`;
  await tx`
    update company_send_counters c set claimed = greatest(0, c.claimed - g.n)
    from (select date_trunc('month', t at time zone ${tz})::date as m, count(*)::int as n
          from unnest(${at}::timestamptz[]) t group by 1) g
    where c.company_id = ${scope.company.id} and c.channel = 'all' and c.period = 'month' and c.period_start = g.m`;
}

type SentRow = Released & { segments: number | null };

/** The call record of each placed call among these messages whose vendor id is known, once. */
export async function recordCalls(
  tx: TransactionSql,
  companyId: number,
  messageIds: readonly number[],
): Promise<void> {
  if (!messageIds.length) return;
  await tx`
    insert into calls (company_id, message_id, contact_id, provider, provider_account, provider_call_sid,
                       from_number, to_number, status)
    select company_id, id, contact_id, provider, provider_account, provider_message_id, from_address, to_address, 'queued'
    from messages
    where company_id = ${companyId} and id in ${tx(messageIds as number[])} and channel = 'voice'
      and provider_message_id is not null
    on conflict do nothing`;
}

async function recordSent(
  tx: TransactionSql,
  scope: RecordScope,
  sent: Extract<Outcome, { kind: 'sent' }>[],
): Promise<SentRow[]> {
  const companyId = scope.company.id;
  const rows = await tx<
    (Released & {
      provider: string;
      provider_account: string;
      provider_message_id: string;
      to_address: string;
      from_address: string | null;
      segments: number | null;
    })[]
  >`
    update messages m
    -- '' = the vendor has it but which of its records is this one is not known yet (reconcile.ts)
    set state = 'sent', provider_message_id = nullif(v.pid, ''), sent_at = now(), last_event_at = now(),
        segments = coalesce(nullif(v.segments, -1), m.segments), from_address = coalesce(nullif(v.sender, ''), m.from_address)
    from unnest(${tx.array(sent.map((s) => s.id))}::bigint[], ${tx.array(sent.map((s) => s.result.providerMessageId))}::text[],
                ${tx.array(sent.map((s) => s.result.segments ?? -1))}::int[], ${tx.array(sent.map((s) => s.result.from ?? ''))}::text[])
         as v(id, pid, segments, sender)
    where m.id = v.id and m.company_id = ${companyId} and m.state in ('sending', 'unknown') and m.dispatch_token = ${scope.token}
      and m.claimed_by = ${scope.lease.holder}
    returning m.id, m.uuid, m.credits, m.sending_at, m.contact_id, m.provider, m.provider_account, m.provider_message_id,
              m.to_address, m.from_address, m.segments`;
  if (!rows.length) return [];
  if (scope.channel === 'voice')
    await recordCalls(
      tx,
      companyId,
      rows.map((r) => r.id),
    );
  const reconciled = new Set(sent.filter((s) => s.reconciled).map((s) => s.id));
  await recordMessageEvents(
    tx,
    companyId,
    rows
      .filter((r) => reconciled.has(r.id))
      .map((r) => ({
        messageId: r.id,
        channel: scope.channel,
        eventId: `reconciled:${r.uuid}`,
        type: 'reconciled',
        status: 'sent',
        reason: r.provider_message_id
          ? `found at the provider as ${r.provider_message_id}`
          : 'found at the provider among as many records as messages to this number; its id comes with its status callback',
      })),
  );
  return rows;
}

async function recordUnsent(
  tx: TransactionSql,
  scope: RecordScope,
  state: 'failed' | 'scheduled' | 'unknown',
  outcomes: readonly { id: number; reason: string }[],
): Promise<Released[]> {
  if (!outcomes.length) return [];
  const rows = await tx<Released[]>`
    update messages m
    set state = ${state}, status_description = v.reason, last_event_at = now(),
        dispatch_token = case when ${state} = 'scheduled' then null else m.dispatch_token end
    from unnest(${tx.array(outcomes.map((o) => o.id))}::bigint[], ${tx.array(outcomes.map((o) => o.reason))}::text[]) as v(id, reason)
    where m.id = v.id and m.company_id = ${scope.company.id} and m.dispatch_token = ${scope.token}
      and m.claimed_by = ${scope.lease.holder}
      -- a reconciliation settles 'unknown' ones too; nothing goes back to 'unknown'
      and (m.state = 'sending' or (m.state = 'unknown' and ${state} <> 'unknown'))
    returning m.id, m.uuid, m.credits, m.sending_at, m.contact_id`;
  if (state !== 'scheduled') {
    const reasons = new Map(outcomes.map((o) => [o.id, o.reason]));
    await recordMessageEvents(
      tx,
      scope.company.id,
      rows.map((r) => ({
        messageId: r.id,
        channel: scope.channel,
        eventId: `${state}:${r.uuid}`,
        type: state,
        status: state,
        reason: reasons.get(r.id) ?? '',
      })),
    );
  }
  return rows;
}

export async function recordOutcomes(
  sql: Sql,
  scope: RecordScope,
  outcomes: readonly Outcome[],
): Promise<void> {
  if (!outcomes.length) return;
  const of = <K extends Outcome['kind']>(kind: K) =>
    outcomes.filter((o): o is Extract<Outcome, { kind: K }> => o.kind === kind);
  await sql.begin(async (t) => {
    const tx = t as TransactionSql;
    const sent = of('sent');
    const sentRows = sent.length ? await recordSent(tx, scope, sent) : [];
    const failed = of('failed');
    const failedRows = await recordUnsent(tx, scope, 'failed', failed);
    const retryRows = await recordUnsent(tx, scope, 'scheduled', of('retry'));
    await recordUnsent(tx, scope, 'unknown', of('unknown'));
    const optedOut = new Set(failed.filter((f) => f.optOut).map((f) => f.id));
    const contacts = failedRows.filter((r) => optedOut.has(r.id)).map((r) => r.contact_id);
    if (contacts.length) {
      // the vendor says this person unsubscribed (Twilio 21610): no later message may reach them on this channel
      await tx`
        update contacts set ${tx(DO_NOT[scope.channel])} = true, opted_out_at = coalesce(opted_out_at, now())
        where company_id = ${scope.company.id} and id in ${tx(contacts)}`;
    }
    // the company's balance and counters are what every batch of the company contends for: they come
    // last, so their locks are held only for the last statements before the commit
    // a message holds its quota and its credits while it is in 'sending' or 'unknown' (it may have
    // gone out): each leaves them once, given back when it did not go, debited when it did
    await releaseQuota(
      tx,
      scope,
      [...failedRows, ...retryRows].map((r) => r.sending_at),
    );
    await chargeCredits(tx, scope.company.id, scope.channel, sentRows, [...failedRows, ...retryRows]);
  });
}
