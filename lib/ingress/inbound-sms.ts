// A text someone sent to one of our numbers: stored once, matched to the last reminder we texted them, and acted on.
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
      companies: number[];
    };

/**
 * The reminder the text answers: the newest one texted to that phone, preferring ones sent from the
 * number it came to; an archived one when the live table has none (a late STOP must still find its company).
 */
async function repliedMessage(tx: TransactionSql, sms: InboundSms): Promise<RepliedMessage | undefined> {
  for (const table of ['messages', 'messages_history'] as const) {
    const [row] = await tx<RepliedMessage[]>`
      select id, company_id as "companyId", contact_id as "contactId", appointment_id as "appointmentId", channel,
             ${table === 'messages_history'} as archived
      from ${tx(table)}
      where to_address = ${sms.from} and channel = 'sms' and sent_at is not null
      order by (from_address is not distinct from ${sms.to}) desc, sent_at desc, id desc
      limit 1`;
    if (row) return row;
  }
  return undefined;
}

/**
 * STOP is about the phone number and the sender: every contact of the company with that phone
 * stops getting texts from us. STOPALL reaches every company that texted the phone from that number.
 */
async function companiesFor(
  tx: TransactionSql,
  sms: InboundSms,
  intent: ReplyIntent,
  message: RepliedMessage | undefined,
): Promise<number[]> {
  if (intent.kind === 'opt_out' && intent.all) {
    const rows = await tx<{ company_id: number }[]>`
      select distinct company_id from messages where to_address = ${sms.from} and channel = 'sms' and from_address = ${sms.to}
      union
      select company_id from sender_numbers where address = ${sms.to} and company_id is not null`;
    return [...new Set([...rows.map((r) => r.company_id), ...(message ? [message.companyId] : [])])];
  }
  if (message) return [message.companyId];
  // no reminder of ours reached this phone: a number a company owns still tells whose list it is
  const owners = await tx<{ company_id: number }[]>`
    select distinct company_id from sender_numbers where address = ${sms.to} and company_id is not null`;
  return owners.map((r) => r.company_id);
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
    const message = await repliedMessage(tx, sms);
    const stored = await tx`
      insert into inbound_messages (provider, provider_event_id, channel, from_address, to_address, body, intent, company_id, contact_id, message_id)
      values ('twilio', ${sms.sid}, 'sms', ${sms.from}, ${sms.to}, ${sms.body}, ${intent.kind},
              ${message?.companyId ?? null}, ${message?.contactId ?? null}, ${message && !message.archived ? message.id : null})
      on conflict (provider, provider_event_id) do nothing
      returning id`;
    if (!stored.length) return { kind: 'duplicate' };

    const effect = message ? await applyReply(tx, message, intent, sms.body) : undefined;
    const companies = await companiesFor(tx, sms, intent, message);
    if (intent.kind === 'opt_out' || intent.kind === 'opt_in') {
      for (const companyId of companies) {
        const contactIds = await contactsWithPhone(tx, companyId, sms.from);
        if (intent.kind === 'opt_out') {
          await optOut(tx, { companyId, contactIds, channels: ['sms'], reason: `replied ${intent.keyword}` });
        } else {
          await optIn(tx, { companyId, contactIds, channels: ['sms'] });
        }
      }
    }
    return { kind: 'applied', intent, message, effect, companies };
  })) as InboundOutcome;
}
