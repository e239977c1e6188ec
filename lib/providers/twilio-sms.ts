// Twilio SMS through the Messages API: send from a number or a Messaging Service, look up by to/from/date, parse status callbacks.
import type { LookupQuery, ProviderEvent, SendResult, SmsInput, SmsProvider } from './types';
import {
  classifyTwilioError,
  createTwilioClient,
  twilioStatusToState,
  type TwilioSettings,
} from './twilio-client';
import { ProviderError } from './errors';

export interface TwilioSmsOptions extends TwilioSettings {
  account: string;
  /** used when a message has no sender number of its own */
  messagingServiceSid?: string;
}

/** The fields of Twilio's reply to a create that a send keeps (snake_case, as the API writes them). */
interface CreatedMessage {
  sid: string;
  status: string;
  num_segments?: string | null;
  price?: string | null;
  from?: string | null;
}

/** Copied per request: the SDK adds its own headers to the object it is given. */
const FORM_HEADERS = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };

/** How many of a recipient's messages a reconciliation reads; a crash window holds few. */
const LOOKUP_LIMIT = 200;

export function createTwilioSms(opts: TwilioSmsOptions): SmsProvider {
  const client = createTwilioClient(opts);
  // the SDK loads its API modules on first use; loading them now keeps that pause out of the first send
  void client.messages;
  const api = client.api.v2010;
  const messagesUri = `/Accounts/${opts.accountSid}/Messages.json`;

  return {
    kind: 'twilio',
    channel: 'sms',
    account: opts.account,

    async send(input: SmsInput): Promise<SendResult> {
      const sender = input.from ? { from: input.from } : { messagingServiceSid: opts.messagingServiceSid };
      if (!sender.from && !sender.messagingServiceSid) {
        throw new ProviderError(
          `Twilio account ${opts.account} has no sender number and no Messaging Service`,
          {
            kind: 'unavailable',
            maybeAccepted: false,
          },
        );
      }
      // the form and headers the SDK's messages.create sends, in its order, through its own request
      // layer (auth, user agent, httpClient, RestException for non-2xx); only the reply is read here
      // instead of becoming a MessageInstance, whose three dates the SDK parses with dayjs and luxon:
      // at thousands of sends a second that parse was a tenth of the worker's CPU
      const data: Record<string, string> = { To: input.to };
      if (input.statusCallback) data.StatusCallback = input.statusCallback;
      if (sender.from) data.From = sender.from;
      else data.MessagingServiceSid = sender.messagingServiceSid!;
      data.Body = input.body;
      try {
        const message = (await api.create({
          uri: messagesUri,
          method: 'post',
          data,
          headers: { ...FORM_HEADERS },
        })) as CreatedMessage;
        return {
          providerMessageId: message.sid,
          status: message.status,
          segments: Number(message.num_segments) || undefined,
          price: message.price ?? undefined,
          from: message.from ?? undefined,
        };
      } catch (err) {
        throw classifyTwilioError(err, 'message');
      }
    },

    lookupBy: 'recipient',

    /**
     * The recipient's outbound messages in the window with that text, but for ids already ours: Twilio
     * keeps no id of ours on a message, so which one is which is for the caller to tell.
     */
    async lookup(query: LookupQuery): Promise<SendResult[]> {
      try {
        const messages = await client.messages.list({
          to: query.to,
          ...(query.from ? { from: query.from } : {}),
          dateSentAfter: query.sentAfter,
          dateSentBefore: query.sentBefore,
          pageSize: 100,
          limit: LOOKUP_LIMIT,
        });
        return messages
          .filter(
            (m) =>
              m.direction.startsWith('outbound') &&
              (query.body === undefined || m.body === query.body) &&
              !query.excludeIds?.includes(m.sid),
          )
          .map((m) => ({
            providerMessageId: m.sid,
            status: m.status,
            segments: Number(m.numSegments) || undefined,
            from: m.from,
          }));
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
