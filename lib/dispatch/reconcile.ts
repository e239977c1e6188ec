// Settles messages an earlier attempt left in 'sending': asks the provider whether it has them, never resends blindly.
// Callers hold the batch's send lease and waited out its fence (send-lease.ts): nothing an earlier
// attempt sent can still be on its way to the vendor, so a lookup that finds nothing proves it never went.
import type { Sql } from '../db';
import { ProviderError } from '../providers/errors';
import type { AnyProvider } from '../providers/types';
import type { DispatchMessage } from './load';
import type { Outcome } from './record';

export interface ReconcileOptions {
  sql: Sql;
  provider: AnyProvider;
  companyId: number;
  /** the SMS text the message would have had, to tell two texts to one person apart */
  expectedBody(message: DispatchMessage): string | undefined;
  /** when the provider cannot be asked right now: leave the message for a later attempt, or settle it as unknown */
  onLookupFailure: 'leave' | 'unknown';
}

export interface ReconcileResult {
  outcomes: Outcome[];
  /** still 'sending': the lookup failed and the caller chose to try again later */
  unresolved: number[];
}

/** Clock differences between us and the vendor, and its second-granular filters. */
const WINDOW_MARGIN_MS = 60_000;

export async function reconcile(
  messages: readonly DispatchMessage[],
  opts: ReconcileOptions,
): Promise<ReconcileResult> {
  const outcomes: Outcome[] = [];
  const unresolved: number[] = [];
  if (!messages.length) return { outcomes, unresolved };
  const { provider } = opts;

  const oldest = Math.min(...messages.map((m) => (m.sendingAt ?? new Date()).getTime()));

  // vendor ids already recorded on this company's messages to the same people: never claim one twice
  const recipients = [...new Set(messages.map((m) => m.toAddress).filter((a): a is string => !!a))];
  const known = recipients.length
    ? await opts.sql<{ provider_message_id: string }[]>`
        select provider_message_id from messages
        where company_id = ${opts.companyId} and to_address in ${opts.sql(recipients)}
          and provider_message_id is not null and sending_at > ${new Date(oldest - 86_400_000)}`
    : [];
  const excludeIds = known.map((k) => k.provider_message_id);

  for (const message of messages) {
    if (!provider.lookup) {
      outcomes.push({
        kind: 'unknown',
        id: message.id,
        reason: `${provider.kind} cannot be asked whether it took the message; check before resending`,
      });
      continue;
    }
    try {
      const found = await provider.lookup({
        messageUuid: message.uuid,
        to: message.toAddress ?? '',
        from: message.fromAddress ?? undefined,
        body: opts.expectedBody(message),
        sentAfter: new Date((message.sendingAt?.getTime() ?? oldest) - WINDOW_MARGIN_MS),
        sentBefore: new Date(Date.now() + WINDOW_MARGIN_MS),
        excludeIds,
      });
      outcomes.push(
        found
          ? { kind: 'sent', id: message.id, result: found, reconciled: true }
          : { kind: 'retry', id: message.id, reason: 'not found at the provider after an interrupted send' },
      );
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (opts.onLookupFailure === 'unknown') {
        outcomes.push({
          kind: 'unknown',
          id: message.id,
          reason: `could not ask the provider after an interrupted send: ${err.reason}`,
        });
      } else {
        unresolved.push(message.id);
      }
    }
  }
  return { outcomes, unresolved };
}
