// The key pressed during a reminder call: recorded once, applied as a reply, answered with TwiML the caller hears.
import twilio from 'twilio';
import type { Sql, TransactionSql } from '../db';
import type { Logger } from '../log';
import { loadCompanyContext, loadMessages } from '../messages/load';
import { pickTemplate, templateContext } from '../render/render-message';
import { sayLanguage } from '../render/voice-twiml';
import type { ProviderEvent } from '../providers/types';
import { classifyDigits } from '../reminders/keywords';
import { applyReply, type ReplyEffect } from '../reminders/replies';
import { renderTemplate } from '../template';
import { findByOwnId, findMessage, recordProviderEvent } from './provider-events';

export type GatherOutcome =
  | { kind: 'applied'; messageId: number; effect: ReplyEffect; twiml: string }
  | { kind: 'duplicate'; twiml: string }
  | { kind: 'unknown'; twiml: string };

const FALLBACK = {
  confirmed: 'Thank you. Your appointment is confirmed. Goodbye.',
  cancelled: 'Your appointment has been cancelled. Goodbye.',
  other: 'Sorry, that key is not one of the choices. Goodbye.',
};

type Said = keyof typeof FALLBACK;

/** The template's own snippet ("confirmed", "cancelled") in the contact's language, else a plain sentence. */
async function spoken(
  sql: Sql,
  log: Logger,
  companyId: number,
  messageId: number,
  said: Said,
): Promise<string> {
  const twiml = new twilio.twiml.VoiceResponse();
  try {
    const company = await loadCompanyContext(sql, companyId, 'voice');
    const [message] = await loadMessages(sql, companyId, 'voice', [messageId]);
    if (!message) throw new Error('message not found');
    const snippet = pickTemplate(company, message).details.snippets?.[said];
    const text = snippet
      ? renderTemplate(snippet, templateContext(company, message), {
          timezone: message.contact.timezone ?? company.timezone,
        })
      : FALLBACK[said];
    twiml.say({ language: sayLanguage(message.contact.language) as never }, text);
  } catch (err) {
    // the caller is on the line: a plain answer beats silence when the template cannot be rendered
    log.warn({ err, messageId }, 'could not render the call answer from its template; said a plain sentence');
    twiml.say(FALLBACK[said]);
  }
  twiml.hangup();
  return twiml.toString();
}

/** `ownId`: our message uuid from the gather action's URL, for a call whose sid dispatch has not written (yet). */
export async function applyGather(
  sql: Sql,
  log: Logger,
  event: ProviderEvent,
  ownId?: string,
): Promise<GatherOutcome> {
  const digits = event.digits ?? '';
  const intent = classifyDigits(digits);
  const result = (await sql.begin(async (t) => {
    const tx = t as TransactionSql;
    const providers = ['twilio', 'outbox'];
    const message =
      (await findMessage(tx, providers, event.providerMessageId)) ??
      (await findByOwnId(tx, providers, ownId));
    if (!message) return { kind: 'unknown' as const };
    if (!(await recordProviderEvent(tx, message, 'twilio', event)))
      return { kind: 'duplicate' as const, messageId: message.id, companyId: message.companyId };
    await tx`update calls set digits = ${digits} where company_id = ${message.companyId} and provider_call_sid = ${event.providerMessageId}`;
    const effect = await applyReply(tx, message, intent, digits);
    return { kind: 'applied' as const, messageId: message.id, companyId: message.companyId, effect };
  })) as
    | { kind: 'unknown' }
    | { kind: 'duplicate' | 'applied'; messageId: number; companyId: number; effect?: ReplyEffect };

  const said: Said =
    intent.kind === 'confirm' ? 'confirmed' : intent.kind === 'cancel' ? 'cancelled' : 'other';
  if (result.kind === 'unknown') {
    const twiml = new twilio.twiml.VoiceResponse();
    twiml.say(FALLBACK[said]);
    return { kind: 'unknown', twiml: twiml.toString() };
  }
  const twiml = await spoken(sql, log, result.companyId, result.messageId, said);
  return result.kind === 'applied'
    ? { kind: 'applied', messageId: result.messageId, effect: result.effect!, twiml }
    : { kind: 'duplicate', twiml };
}
