// Opt-outs and opt-ins: set or clear a contact's do_not_* flags, and at once skip what is not yet sent and stop their sequences.
import type { Sql, TransactionSql } from '../db';
import type { Channel } from './quiet-hours';
import { moveMessages } from '../messages/move';
import { NOT_SENT } from '../messages/states';

const FLAG = { sms: 'do_not_sms', voice: 'do_not_call', email: 'do_not_email' } as const;

export interface OptOutInput {
  companyId: number;
  contactIds: readonly number[];
  channels: readonly Channel[];
  /** said on every skipped message and stopped sequence, e.g. "replied STOP" */
  reason: string;
  /** stop the person's reminder sequences too (a reply, not an operator's per-channel block) */
  stopSequences?: boolean;
}

export interface OptOutResult {
  contacts: number;
  /** pending messages on those channels, skipped */
  skipped: number;
  /** touches on other channels of the stopped sequences, cancelled */
  cancelled: number;
  sequencesStopped: number;
}

/**
 * Pending messages are skipped in the same transaction that sets the flag: once it commits, no
 * dispatcher can claim them (a claim only takes 'scheduled' rows, and the database refuses to
 * claim a message whose contact opted out of its channel).
 */
export async function optOut(tx: TransactionSql, input: OptOutInput): Promise<OptOutResult> {
  const result: OptOutResult = { contacts: 0, skipped: 0, cancelled: 0, sequencesStopped: 0 };
  if (!input.contactIds.length || !input.channels.length) return result;
  const ids = tx.array(input.contactIds as number[]);
  for (const channel of input.channels) {
    const updated = await tx`
      update contacts set ${tx(FLAG[channel])} = true, opted_out_at = coalesce(opted_out_at, now())
      where company_id = ${input.companyId} and id = any(${ids}::bigint[]) and not ${tx(FLAG[channel])}`;
    result.contacts = Math.max(result.contacts, updated.count);
  }
  const pending = await tx<{ id: number }[]>`
    select id from messages
    where company_id = ${input.companyId} and contact_id = any(${ids}::bigint[])
      and channel in ${tx(input.channels as Channel[])} and state in ('scheduled', 'held')`;
  const skipped = await moveMessages(
    tx,
    input.companyId,
    pending.map((p) => ({
      id: p.id,
      to: 'skipped' as const,
      reason: `the contact opted out of this channel: ${input.reason}`,
    })),
    { from: NOT_SENT },
  );
  result.skipped = skipped.length;
  if (input.stopSequences) {
    const stopped = await stopSequences(tx, input.companyId, {
      contactIds: input.contactIds,
      status: 'opted_out',
      reason: `the person opted out (${input.reason})`,
    });
    result.sequencesStopped = stopped.sequences;
    result.cancelled = stopped.cancelled;
  }
  return result;
}

export async function optIn(
  tx: TransactionSql,
  input: { companyId: number; contactIds: readonly number[]; channels: readonly Channel[] },
): Promise<number> {
  let contacts = 0;
  for (const channel of input.channels) {
    const updated = await tx`
      update contacts set ${tx(FLAG[channel])} = false
      where company_id = ${input.companyId} and id = any(${tx.array(input.contactIds as number[])}::bigint[]) and ${tx(FLAG[channel])}`;
    contacts = Math.max(contacts, updated.count);
  }
  // opted_out_at stays as the record of when they last left; it is cleared only when no flag is left
  await tx`
    update contacts set opted_out_at = null
    where company_id = ${input.companyId} and id = any(${tx.array(input.contactIds as number[])}::bigint[])
      and not (do_not_sms or do_not_call or do_not_email)`;
  return contacts;
}

/**
 * Ends active drip enrollments (reminder_enrollments): completed (confirmed), cancelled (cancelled or asked to
 * reschedule) or opted_out; their pending touches are cancelled with the reason. An appointment still
 * ahead whose first reminder has not fallen due yet has no enrollment: it gets one, stopped, so the
 * reminder run makes none of its steps (lib/messages/due-steps.ts).
 */
export async function stopSequences(
  tx: TransactionSql,
  companyId: number,
  scope: {
    contactIds?: readonly number[];
    appointmentIds?: readonly number[];
    status: 'completed' | 'cancelled' | 'opted_out';
    reason: string;
  },
): Promise<{ sequences: number; cancelled: number }> {
  const byContact = (column: string) =>
    scope.contactIds?.length
      ? tx`${tx(column)} = any(${tx.array(scope.contactIds as number[])}::bigint[])`
      : tx`false`;
  const byAppointment = (column: string) =>
    scope.appointmentIds?.length
      ? tx`${tx(column)} = any(${tx.array(scope.appointmentIds as number[])}::bigint[])`
      : tx`false`;
  await tx`
    insert into reminder_enrollments (company_id, contact_id, appointment_id, appointment_at)
    select company_id, contact_id, id, starts_at from appointments
    where company_id = ${companyId} and starts_at > now() and (${byContact('contact_id')} or ${byAppointment('id')})
    on conflict (appointment_id) do nothing`;
  const stopped = await tx<{ appointment_id: number }[]>`
    update reminder_enrollments
    set status = ${scope.status}, status_reason = ${scope.reason}, last_response_at = now(),
        completed_at = case when ${scope.status} = 'completed' then now() else completed_at end
    where company_id = ${companyId} and status = 'active'
      and (${byContact('contact_id')} or ${byAppointment('appointment_id')})
    returning appointment_id`;
  if (!stopped.length) return { sequences: 0, cancelled: 0 };
  const pending = await tx<{ id: number }[]>`
    select id from messages
    where company_id = ${companyId} and appointment_id = any(${tx.array(stopped.map((s) => s.appointment_id))}::bigint[])
      and state in ('scheduled', 'held')`;
  const cancelled = await moveMessages(
    tx,
    companyId,
    pending.map((p) => ({
      id: p.id,
      to: 'cancelled' as const,
      reason: `the reminder sequence stopped: ${scope.reason}`,
    })),
    { from: NOT_SENT },
  );
  return { sequences: stopped.length, cancelled: cancelled.length };
}

/** A company's contacts with this phone number or email address (an operator's opt-out, a bounce). */
export async function findContacts(
  sql: Sql | TransactionSql,
  companyId: number,
  by: { phone?: string; email?: string },
): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    select id from contacts
    where company_id = ${companyId}
      and (${by.phone ?? null}::text is not null and phone_e164 = ${by.phone ?? null}
        or ${by.email ?? null}::text is not null and email = lower(${by.email ?? null}))`;
  return rows.map((r) => r.id);
}
