// Twilio SMS through the Messages API: send from a number or a Messaging Service, look up by to/from/date, parse status callbacks.
import type { LookupQuery, ProviderEvent, SendResult, SmsInput, SmsProvider } from './types';
import { classifyTwilioError, createTwilioClient, twilioStatusToState, type TwilioSettings } from './twilio-client';
import { ProviderError } from './errors';

export interface TwilioSmsOptions extends TwilioSettings {
  account: string;
  /** used when a message has no sender number of its own */
  messagingServiceSid?: string;
}

/** How many of a recipient's messages a reconciliation reads; a crash window holds few. */
const LOOKUP_LIMIT = 200;

export function createTwilioSms(opts: TwilioSmsOptions): SmsProvider {
  const client = createTwilioClient(opts);
  // the SDK loads its API modules on first use; loading them now keeps that pause out of the first send
  void client.messages;

  return {
    kind: 'twilio',
    channel: 'sms',
    account: opts.account,

    async send(input: SmsInput): Promise<SendResult> {
      const sender = input.from ? { from: input.from } : { messagingServiceSid: opts.messagingServiceSid };
      if (!sender.from && !sender.messagingServiceSid) {
        throw new ProviderError(`Twilio account ${opts.account} has no sender number and no Messaging Service`, {
          kind: 'unavailable',
          maybeAccepted: false,
        });
      }
      try {
        const message = await client.messages.create({
          to: input.to,
          body: input.body,
          ...sender,
          ...(input.statusCallback ? { statusCallback: input.statusCallback } : {}),
        });
        return {
          providerMessageId: message.sid,
          status: message.status,
          segments: Number(message.numSegments) || undefined,
          price: message.price ?? undefined,
          from: message.from ?? undefined,
        };
      } catch (err) {
        throw classifyTwilioError(err, 'message');
      }
    },

    /** Lists the recipient's messages in the window and matches the text, skipping ids already ours. */
    async lookup(query: LookupQuery): Promise<SendResult | undefined> {
      try {
        const messages = await client.messages.list({
          to: query.to,
          ...(query.from ? { from: query.from } : {}),
          dateSentAfter: query.sentAfter,
          dateSentBefore: query.sentBefore,
          pageSize: 100,
          limit: LOOKUP_LIMIT,
        });
        const found = messages.find(
          (m) =>
            m.direction.startsWith('outbound') &&
            (query.body === undefined || m.body === query.body) &&
            !query.excludeIds?.includes(m.sid),
        );
        return found
          ? { providerMessageId: found.sid, status: found.status, segments: Number(found.numSegments) || undefined, from: found.from }
          : undefined;
      } catch (err) {
        throw classifyTwilioError(err, 'message lookup');
      }
    },

    parseCallback(params: Record<string, string>): ProviderEvent {
      const sid = params.MessageSid ?? params.SmsSid ?? '';
      const status = params.MessageStatus ?? params.SmsStatus ?? '';
      const errorCode = params.ErrorCode || undefined;
      return {
        providerMessageId: sid,
        // Twilio gives status callbacks no id of their own; one status per message is one event
        eventId: `${sid}:${status}`,
        eventType: `sms.${status}`,
        state: twilioStatusToState(status),
        errorCode,
        optOut: errorCode === '21610',
        payload: params,
      };
    },
  };
}
