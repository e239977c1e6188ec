// Applies what a recipient answered to a reminder: contact_status and raw_response, the appointment, the sequence, consent.
import type { TransactionSql } from '../db';
import { contactStatusOf, type ReplyIntent } from './keywords';
import { optIn, optOut, stopSequences } from './consent';
import type { Channel } from './quiet-hours';

export interface RepliedMessage {
  id: number;
  companyId: number;
  contactId: number;
  appointmentId: number | null;
  channel: Channel;
  /** the archive has moved it to messages_history: the answer is written on its history row */
  archived?: boolean;
}

export interface ReplyEffect {
  contactStatus: string;
  appointmentStatus?: string;
  optedOut?: boolean;
  optedIn?: boolean;
  /** pending touches skipped or cancelled because of this answer */
  stoppedMessages: number;
}

const APPOINTMENT_STATUS = {
  confirm: 'confirmed',
  cancel: 'cancelled',
  reschedule: 'reschedule_requested',
} as const;
const SEQUENCE = {
  confirm: { status: 'completed', reason: 'the person confirmed' },
  cancel: { status: 'cancelled', reason: 'the person cancelled the appointment' },
  reschedule: { status: 'cancelled', reason: 'the person asked to reschedule' },
} as const;

/**
 * The channel a reply opts out of is the one it came on: a text's STOP stops texts (the carrier
 * blocks them from now on anyway), and the person's whole sequence stops with it.
 */
export async function applyReply(
  tx: TransactionSql,
  message: RepliedMessage,
  intent: ReplyIntent,
  raw: string,
): Promise<ReplyEffect> {
  const contactStatus = contactStatusOf(intent);
  await tx`
    update ${tx(message.archived ? 'messages_history' : 'messages')}
    set contact_status = ${contactStatus}, raw_response = ${raw}, last_event_at = now()
    where id = ${message.id} and company_id = ${message.companyId}`;
  const effect: ReplyEffect = { contactStatus, stoppedMessages: 0 };

  if (intent.kind === 'opt_out') {
    const result = await optOut(tx, {
      companyId: message.companyId,
      contactIds: [message.contactId],
      channels: [message.channel],
      reason: `replied ${intent.keyword}`,
      stopSequences: true,
    });
    return { ...effect, optedOut: true, stoppedMessages: result.skipped + result.cancelled };
  }
  if (intent.kind === 'opt_in') {
    await optIn(tx, {
      companyId: message.companyId,
      contactIds: [message.contactId],
      channels: [message.channel],
    });
    return { ...effect, optedIn: true };
  }
  if (intent.kind === 'other' || message.appointmentId === null) return effect;

  // a cancelled or completed appointment is not brought back by a late "C"; an answer to an archived
  // reminder acts only on an appointment still ahead (a short retention can archive before it)
  const [appointment] = await tx<{ status: string }[]>`
    update appointments set status = ${APPOINTMENT_STATUS[intent.kind]}
    where id = ${message.appointmentId} and company_id = ${message.companyId} and status not in ('cancelled', 'completed')
      and ${message.archived ? tx`starts_at > now()` : tx`true`}
    returning status`;
  if (message.archived && !appointment) return effect;
  const sequence = SEQUENCE[intent.kind];
  const stopped = await stopSequences(tx, message.companyId, {
    appointmentIds: [message.appointmentId],
    status: sequence.status,
    reason: sequence.reason,
  });
  return { ...effect, appointmentStatus: appointment?.status, stoppedMessages: stopped.cancelled };
}
