// Settles messages an earlier attempt left in 'sending': asks the provider whether it has them, never resends blindly.
// Callers hold the batch's send lease and waited out its fence (send-lease.ts): nothing an earlier
// attempt sent can still be on its way to the vendor, so a lookup that finds nothing proves it never went.
import type { Sql } from '../db';
import { ProviderError } from '../providers/errors';
import type { AnyProvider, SendResult } from '../providers/types';
import type { DispatchMessage } from '../messages/load';
import { matchRecords } from './match-records';
import type { Outcome } from './record';

export interface ReconcileOptions {
  sql: Sql;
  provider: AnyProvider;
  companyId: number;
  /** the SMS text the message would have had, to tell two texts to one person apart */
  expectedBody(message: DispatchMessage): string | undefined;
  /** when the provider cannot be asked, or cannot tell: leave the message for a later attempt, or settle it as unknown */
  onLookupFailure: 'leave' | 'unknown';
}

export interface ReconcileResult {
  outcomes: Outcome[];
  /** still 'sending' (or 'unknown'): the lookup failed or could not tell, and the caller chose to try again later */
  unresolved: number[];
}

/** Clock differences between us and the vendor, and its second-granular filters. */
const WINDOW_MARGIN_MS = 60_000;

/**
 * Vendor ids the callbacks brought back with our own id (a status callback's ?m=), for messages
 * whose id dispatch has not written yet: an exact answer, whatever the vendor's lists say.
 */
async function idsFromCallbacks(
  sql: Sql,
  messages: readonly DispatchMessage[],
): Promise<Map<string, string>> {
  const rows = await sql<{ message_uuid: string; provider_message_id: string }[]>`
    select distinct on (message_uuid) message_uuid::text, provider_message_id from provider_events_pending
    where message_uuid in ${sql(messages.map((m) => m.uuid))}
    order by message_uuid, id`;
  return new Map(rows.map((r) => [r.message_uuid, r.provider_message_id]));
}

/** What else of ours went to these recipients through the account lately: ids recorded, and sends whose id is not. */
async function accountSends(sql: Sql, account: string, recipients: readonly string[], since: Date) {
  return sql<
    { id: number; to_address: string; from_address: string | null; provider_message_id: string | null }[]
  >`
    select id, to_address, from_address, provider_message_id from messages
    where provider_account = ${account} and to_address in ${sql(recipients as string[])} and sending_at > ${since}
      and state not in ('scheduled', 'held', 'skipped', 'expired', 'cancelled', 'failed')`;
}

export async function reconcile(
  messages: readonly DispatchMessage[],
  opts: ReconcileOptions,
): Promise<ReconcileResult> {
  const outcomes: Outcome[] = [];
  const unresolved: number[] = [];
  if (!messages.length) return { outcomes, unresolved };
  const { provider, sql } = opts;
  if (!provider.lookup) {
    for (const message of messages)
      outcomes.push({
        kind: 'unknown',
        id: message.id,
        reason: `${provider.kind} cannot be asked whether it took the message; check before resending`,
      });
    return { outcomes, unresolved };
  }
  const cannotTell = (message: DispatchMessage, reason: string) => {
    if (opts.onLookupFailure === 'unknown') outcomes.push({ kind: 'unknown', id: message.id, reason });
    else unresolved.push(message.id);
  };

  const fromCallbacks = await idsFromCallbacks(sql, messages);
  const rest: DispatchMessage[] = [];
  for (const message of messages) {
    const id = fromCallbacks.get(message.uuid);
    if (id)
      outcomes.push({ kind: 'sent', id: message.id, result: { providerMessageId: id }, reconciled: true });
    else rest.push(message);
  }
  if (!rest.length) return { outcomes, unresolved };

  const oldest = Math.min(...rest.map((m) => (m.sendingAt ?? new Date()).getTime()));
  const since = new Date(oldest - WINDOW_MARGIN_MS);
  const recipients = [...new Set(rest.map((m) => m.toAddress).filter((a): a is string => !!a))];
  const others = recipients.length ? await accountSends(sql, provider.account, recipients, since) : [];
  const recorded = others.flatMap((o) => (o.provider_message_id ? [o.provider_message_id] : []));

  // one lookup per message where the vendor keeps our id; otherwise per recipient, sender and text
  const exact = provider.lookupBy === 'own-id';
  const groups = new Map<string, DispatchMessage[]>();
  for (const m of rest) {
    const key = exact ? m.uuid : `${m.toAddress}\n${m.fromAddress ?? ''}\n${opts.expectedBody(m) ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const taken = new Set(recorded);
  for (const group of groups.values()) {
    const first = group[0]!;
    let found: SendResult[];
    try {
      found = await provider.lookup({
        messageUuid: first.uuid,
        to: first.toAddress ?? '',
        from: first.fromAddress ?? undefined,
        body: opts.expectedBody(first),
        sentAfter: new Date(
          Math.min(...group.map((m) => m.sendingAt?.getTime() ?? oldest)) - WINDOW_MARGIN_MS,
        ),
        sentBefore: new Date(Date.now() + WINDOW_MARGIN_MS),
        excludeIds: [...taken],
      });
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      for (const m of group)
        cannotTell(m, `could not ask the provider after an interrupted send: ${err.reason}`);
      continue;
    }
    found = found.filter((f) => !taken.has(f.providerMessageId));
    const ids = new Set(group.map((m) => m.id));
    const match = matchRecords({
      messages: group.length,
      records: found,
      exact,
      // sends of ours to the same recipient (and sender) outside this group whose vendor id is not recorded
      unrecordedElsewhere: others.filter(
        (o) =>
          !ids.has(o.id) &&
          !o.provider_message_id &&
          o.to_address === first.toAddress &&
          (!first.fromAddress || !o.from_address || o.from_address === first.fromAddress),
      ).length,
    });
    if (match.kind === 'none') {
      for (const m of group)
        outcomes.push({
          kind: 'retry',
          id: m.id,
          reason: 'not found at the provider after an interrupted send',
        });
    } else if (match.kind === 'each') {
      group.forEach((m, i) => {
        const result = match.results[i]!;
        taken.add(result.providerMessageId);
        outcomes.push({ kind: 'sent', id: m.id, result, reconciled: true });
      });
    } else if (match.kind === 'all') {
      for (const m of group)
        outcomes.push({ kind: 'sent', id: m.id, result: { providerMessageId: '' }, reconciled: true });
      for (const f of found) taken.add(f.providerMessageId);
    } else {
      for (const m of group) cannotTell(m, match.reason);
    }
  }
  return { outcomes, unresolved };
}
