// Charges a call's minutes past the first (voice is billed per started minute) once its duration is known.
import type { TransactionSql } from '../db';

/**
 * Called with the completion callback's duration. The first started minute was debited when the
 * call was placed, at the rate kept on the message (`credits`); every further started minute costs
 * the same. One ledger row per message at most (a unique index), so a callback that arrives twice
 * charges once. The call has happened: the debit is recorded even when it takes the balance below
 * zero, and the company's next messages are then held for credits as usual.
 */
export async function chargeCallMinutes(
  tx: TransactionSql,
  messageId: number,
  durationSeconds: number | undefined,
): Promise<void> {
  if (durationSeconds === undefined || !(durationSeconds > 60)) return;
  const extra = Math.ceil(durationSeconds / 60) - 1;
  await tx`
    insert into credit_ledger (company_id, kind, credits, message_id, note)
    select m.company_id, 'call_minutes', -(m.credits * ${extra}), m.id,
           ${`call, ${extra} more started minute(s) of ${durationSeconds} s`}
    from messages m
    where m.id = ${messageId} and m.channel = 'voice' and m.credits > 0
    on conflict (message_id) where kind = 'call_minutes' do nothing`;
}
