// The credit charge: what a sent message costs is debited once, its reservation (made by the claim) given back, and a call's further minutes charged when its duration is known.
import type { TransactionSql } from '../db';
import type { Channel } from '../providers/types';

/** A message that left 'sending' or 'unknown', with the credits its claim reserved. */
export interface Reserved {
  id: number;
  credits: string | null;
}

async function releaseCredits(
  tx: TransactionSql,
  companyId: number,
  rows: readonly Reserved[],
): Promise<void> {
  const total = rows.reduce((sum, r) => sum + Number(r.credits ?? 0), 0);
  if (total > 0)
    await tx`update credit_accounts set reserved = greatest(0, reserved - ${total}) where company_id = ${companyId}`;
}

/**
 * Debits what was sent, once (the partial unique index on message_id where kind = 'debit' sees to
 * it), and gives back every reservation of `sent` and `released` (not sent after all), in one
 * statement: the company's balance row is what all its batches contend for, and it stays locked only
 * from here to the commit. The balance itself follows the ledger (credit_ledger_balance trigger).
 */
export async function chargeCredits(
  tx: TransactionSql,
  companyId: number,
  channel: Channel,
  sent: readonly (Reserved & { segments: number | null })[],
  released: readonly Reserved[],
): Promise<void> {
  const total = [...sent, ...released].reduce((sum, r) => sum + Number(r.credits ?? 0), 0);
  if (!sent.length) {
    if (total > 0) await releaseCredits(tx, companyId, released);
    return;
  }
  await tx`
    with debit as (
      insert into credit_ledger ${tx(
        sent.map((r) => ({
          company_id: companyId,
          kind: 'debit',
          credits: -Number(r.credits ?? 0),
          message_id: r.id,
          note:
            channel === 'sms'
              ? `sms, ${r.segments ?? 1} segment(s)`
              : channel === 'voice'
                ? 'call, first minute'
                : 'email',
        })),
      )}
      on conflict (message_id) where kind = 'debit' do nothing
      returning 1)
    update credit_accounts set reserved = greatest(0, reserved - ${total}) where company_id = ${companyId}`;
}

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
