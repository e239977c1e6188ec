// Turns a due message into exactly what its provider will be sent: rendered content, recipient, sender and credit cost.
import { unsubscribeToken } from '../unsubscribe-token';
import { INGRESS_PATHS, OWN_ID_PARAM } from '../names';
import type { ProviderAccount } from '../providers/accounts';
import type { ChannelInput, Channel } from '../providers/types';
import type { CompanyContext, DispatchMessage, SenderNumber } from '../messages/load';
import { createRenderer, renderInput, RenderProblem, type RenderedMessage } from './render-message';

export interface PreparedSend {
  message: DispatchMessage;
  sender: SenderNumber | undefined;
  cost: number;
  rendered: RenderedMessage;
  input: ChannelInput[Channel];
}

export type Preparation =
  | { kind: 'ready'; send: PreparedSend }
  /** not sent on purpose (opted out, no address on this channel) */
  | { kind: 'skip'; id: number; reason: string }
  /** cannot be sent as it stands (no template, a missing field, too many segments) */
  | { kind: 'fail'; id: number; reason: string };

const callbackUrl = (base: string | undefined, path: string, query?: string) =>
  base ? `${base.replace(/\/$/, '')}${path}${query ? `?${query}` : ''}` : undefined;

/** A status callback that names the message it is about by our own id. */
const ownCallback = (base: string | undefined, path: string, uuid: string) =>
  callbackUrl(base, path, `${OWN_ID_PARAM}=${uuid}`);

function recipient(message: DispatchMessage): { to?: string; optedOut: boolean; what: string } {
  const c = message.contact;
  switch (message.channel) {
    case 'sms':
      return { to: c.phone ?? undefined, optedOut: c.doNotSms, what: 'phone number' };
    case 'voice':
      return { to: c.phone ?? undefined, optedOut: c.doNotCall, what: 'phone number' };
    case 'email':
      return { to: c.email ?? undefined, optedOut: c.doNotEmail, what: 'email address' };
  }
}

/** Credits at the company's rate: SMS per segment, a call's first started minute, email per message. */
export function creditCost(rendered: RenderedMessage, creditsPerUnit: number): number {
  return rendered.channel === 'sms' ? rendered.segments * creditsPerUnit : creditsPerUnit;
}

export interface PrepareOptions {
  company: CompanyContext;
  account: ProviderAccount;
  senders: readonly SenderNumber[];
  publicBaseUrl?: string;
  /** signs the unsubscribe link, so nobody can unsubscribe someone else (lib/unsubscribe-token.ts) */
  unsubscribeSecret?: string;
}

/** Prepares a batch, spreading messages over the sender numbers in turn. */
export function prepareSends(messages: readonly DispatchMessage[], opts: PrepareOptions): Preparation[] {
  const prepare = preparer(opts);
  return messages.map(prepare);
}

/** Messages rendered between two yields to the event loop: other batches' send timers must not wait. */
const RENDER_SLICE = 20;

/** As prepareSends, but in slices, so rendering a large batch never holds up sends already under way. */
export async function prepareSendsInSlices(
  messages: readonly DispatchMessage[],
  opts: PrepareOptions,
): Promise<Preparation[]> {
  const prepare = preparer(opts);
  const out: Preparation[] = [];
  for (let i = 0; i < messages.length; i += RENDER_SLICE) {
    out.push(...messages.slice(i, i + RENDER_SLICE).map(prepare));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}

function preparer(opts: PrepareOptions): (message: DispatchMessage) => Preparation {
  const { company, senders, publicBaseUrl } = opts;
  const renderer = createRenderer({
    strict: true,
    gatherAction: callbackUrl(publicBaseUrl, INGRESS_PATHS.twilioVoiceGather),
  });
  let turn = 0;
  return (message: DispatchMessage): Preparation => {
    const { to, optedOut, what } = recipient(message);
    if (optedOut)
      return { kind: 'skip', id: message.id, reason: `the contact opted out of ${message.channel}` };
    if (!to) return { kind: 'skip', id: message.id, reason: `the contact has no ${what}` };
    let rendered: RenderedMessage;
    try {
      rendered = renderer.render({ ...renderInput(company, message), ownId: message.uuid });
    } catch (err) {
      if (err instanceof RenderProblem) return { kind: 'fail', id: message.id, reason: err.message };
      throw err;
    }
    const sender = senders.length ? senders[turn++ % senders.length] : undefined;
    const base = { messageUuid: message.uuid, to, companyId: company.id };
    let input: ChannelInput[Channel];
    if (rendered.channel === 'sms') {
      input = {
        ...base,
        from: sender?.address,
        body: rendered.body,
        segments: rendered.segments,
        statusCallback: ownCallback(publicBaseUrl, INGRESS_PATHS.twilioSmsStatus, message.uuid),
      };
    } else if (rendered.channel === 'voice') {
      input = {
        ...base,
        from: sender?.address,
        twiml: rendered.twiml,
        spokenText: rendered.spokenText,
        statusCallback: ownCallback(publicBaseUrl, INGRESS_PATHS.twilioVoiceStatus, message.uuid),
      };
    } else {
      const from = company.emailFrom ?? sender?.address;
      if (!from)
        return {
          kind: 'fail',
          id: message.id,
          reason: 'no sender address: set the company email_from or an account sender',
        };
      const replyTo = company.emailReplyTo ?? undefined;
      const unsubscribeUrl = callbackUrl(
        publicBaseUrl,
        `${INGRESS_PATHS.emailUnsubscribe}/${unsubscribeToken(message.uuid, opts.unsubscribeSecret)}`,
      );
      const mailto = `<mailto:${replyTo ?? from}?subject=unsubscribe%20${message.uuid}>`;
      input = {
        ...base,
        from,
        fromName: company.name,
        replyTo,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        // RFC 8058 one-click needs an https link; the mailto form works everywhere
        headers: unsubscribeUrl
          ? [
              { name: 'List-Unsubscribe', value: `<${unsubscribeUrl}>, ${mailto}` },
              { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
            ]
          : [{ name: 'List-Unsubscribe', value: mailto }],
        tags: { message: message.uuid, company: company.alias },
      };
    }
    return {
      kind: 'ready',
      send: { message, sender, cost: creditCost(rendered, company.creditsPerUnit), rendered, input },
    };
  };
}
