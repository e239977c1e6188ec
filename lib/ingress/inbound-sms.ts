// A text someone sent to one of our numbers: stored once, matched to the reminder it answers by the number it came to, and acted on.
//
// A reply says which phone sent it and which of our numbers it went to, nothing more. So it answers
// a text we sent that phone from that number, and only when one company did so lately: on a number
// shared by several companies, a family phone texted by two of them cannot say whose "C" it is, and
// acting on either could confirm the wrong appointment and stop the wrong reminders. Such a reply is
// kept with its candidates and acts on nobody; operators see it (herald replies). A company that
// takes replies sends from a number of its own (sender_numbers.company_id; the sender_numbers_owner
// trigger keeps a number one company's or shared, never both). STOP and START act as the carrier
// applies them: for the phone and the number, whichever company texted it.
import type { Sql, TransactionSql } from '../db';
import { classifyReply, type ReplyIntent } from '../reminders/keywords';
import { optIn, optOut } from '../reminders/consent';
import { applyReply, type RepliedMessage, type ReplyEffect } from '../reminders/replies';

export interface InboundSms {
  /** Twilio's MessageSid of the reply */
  sid: string;
  from: string;
  to: string;
  body: string;
}

export type InboundOutcome =
  | { kind: 'duplicate' }
  | {
      kind: 'applied';
      intent: ReplyIntent;
      message?: RepliedMessage;
      effect?: ReplyEffect;
      /** the companies whose consent the reply changed (STOP, START) */
      companies: number[];
    }
  /** more than one company texted the phone from that number lately: kept, acted on for nobody (but STOP, START) */
  | { kind: 'ambiguous'; intent: ReplyIntent; candidates: RepliedMessage[]; companies: number[] };

/** A reply answers a text of the last two weeks; an older one names no reminder of ours. */
export const REPLY_WINDOW_DAYS = 14;

/**
 * Each company's newest text to the phone from the number the reply came to, within the window; an
 * archived one counts (a late answer to a short retention's reminder must still find its company).
 */
async function candidatesFor(tx: TransactionSql, sms: InboundSms): Promise<RepliedMessage[]> {
  return tx<RepliedMessage[]>`
    select distinct on (company_id) id, company_id as "companyId", contact_id as "contactId",
           appointment_id as "appointmentId", channel, archived
    from (
      select id, company_id, contact_id, appointment_id, channel, sent_at, false as archived from messages
      where to_address = ${sms.from} and from_address = ${sms.to} and channel = 'sms'
        and sent_at > now() - make_interval(days => ${REPLY_WINDOW_DAYS})
      union all
      select id, company_id, contact_id, appointment_id, channel, sent_at, true from messages_history
      where to_address = ${sms.from} and from_address = ${sms.to} and channel = 'sms'
        and sent_at > now() - make_interval(days => ${REPLY_WINDOW_DAYS})
    ) texts
    order by company_id, sent_at desc, archived, id desc`;
}

/**
 * The companies a STOP or START reaches: the carrier blocks (or unblocks) the number for that phone,
 * so every company that ever texted the phone from it, and the number's owner.
 */
async function carrierScope(tx: TransactionSql, sms: InboundSms): Promise<number[]> {
  const rows = await tx<{ company_id: number }[]>`
    select company_id from messages where to_address = ${sms.from} and from_address = ${sms.to} and channel = 'sms'
    union
    select company_id from messages_history where to_address = ${sms.from} and from_address = ${sms.to} and channel = 'sms'
    union
    select company_id from sender_numbers where address = ${sms.to} and company_id is not null`;
  return rows.map((r) => r.company_id).sort((a, b) => a - b);
}

async function contactsWithPhone(tx: TransactionSql, companyId: number, phone: string): Promise<number[]> {
  const rows = await tx<
    { id: number }[]
  >`select id from contacts where company_id = ${companyId} and phone_e164 = ${phone}`;
  return rows.map((r) => r.id);
}

export async function applyInboundSms(sql: Sql, sms: InboundSms): Promise<InboundOutcome> {
  const intent = classifyReply(sms.body);
  return (await sql.begin(async (t) => {
    const tx = t as TransactionSql;
    const candidates = await candidatesFor(tx, sms);
    const ambiguous = candidates.length > 1;
    const message = ambiguous ? undefined : candidates[0];
    const stored = await tx`
      insert into inbound_messages (provider, provider_event_id, channel, from_address, to_address, body, intent,
                                    company_id, contact_id, message_id, ambiguous, candidates)
      values ('twilio', ${sms.sid}, 'sms', ${sms.from}, ${sms.to}, ${sms.body}, ${intent.kind},
              ${message?.companyId ?? null}, ${message?.contactId ?? null}, ${message && !message.archived ? message.id : null},
              ${ambiguous},
              ${tx.json(ambiguous ? candidates.map((c) => ({ companyId: c.companyId, messageId: c.id })) : [])})
      on conflict (provider, provider_event_id) do nothing
      returning id`;
    if (!stored.length) return { kind: 'duplicate' };

    const effect = message ? await applyReply(tx, message, intent, sms.body) : undefined;
    const companies =
      intent.kind === 'opt_out' || intent.kind === 'opt_in' ? await carrierScope(tx, sms) : [];
    for (const companyId of companies) {
      const contactIds = await contactsWithPhone(tx, companyId, sms.from);
      if (intent.kind === 'opt_out') {
        await optOut(tx, { companyId, contactIds, channels: ['sms'], reason: `replied ${intent.keyword}` });
      } else {
        await optIn(tx, { companyId, contactIds, channels: ['sms'] });
      }
    }
    return ambiguous
      ? { kind: 'ambiguous', intent, candidates, companies }
      : { kind: 'applied', intent, message, effect, companies };
  })) as InboundOutcome;
}
