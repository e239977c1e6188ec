// Twilio voice through the Calls API with inline TwiML: place a call, look it up by to/from/time, parse call status callbacks.
import type { LookupQuery, ProviderEvent, SendResult, VoiceInput, VoiceProvider } from './types';
import { ProviderError } from './errors';
import { classifyTwilioError, createTwilioClient, type TwilioSettings } from './twilio-client';

export interface TwilioVoiceOptions extends TwilioSettings {
  account: string;
  /** seconds the phone rings before Twilio gives up */
  ringTimeoutSeconds?: number;
}

/** Every step of the call is reported, so call records get their transitions and duration. */
const CALL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];

/** Twilio call statuses as message states: a call that ended unanswered was not delivered. */
function callStatusToState(status: string): ProviderEvent['state'] {
  switch (status) {
    case 'queued':
    case 'initiated':
    case 'ringing':
    case 'in-progress':
      return 'sent';
    case 'completed':
      return 'delivered';
    case 'busy':
    case 'no-answer':
    case 'canceled':
      return 'undelivered';
    case 'failed':
      return 'failed';
    default:
      return undefined;
  }
}

export function createTwilioVoice(opts: TwilioVoiceOptions): VoiceProvider {
  const client = createTwilioClient(opts);
  // the SDK loads its API modules on first use; loading them now keeps that pause out of the first call
  void client.calls;

  return {
    kind: 'twilio',
    channel: 'voice',
    account: opts.account,

    async send(input: VoiceInput): Promise<SendResult> {
      if (!input.from) {
        throw new ProviderError(`Twilio account ${opts.account} has no caller number for voice`, {
          kind: 'unavailable',
          maybeAccepted: false,
        });
      }
      try {
        const call = await client.calls.create({
          to: input.to,
          from: input.from,
          twiml: input.twiml,
          timeout: opts.ringTimeoutSeconds ?? 30,
          ...(input.statusCallback
            ? {
                statusCallback: input.statusCallback,
                statusCallbackEvent: CALL_EVENTS,
                statusCallbackMethod: 'POST',
              }
            : {}),
        });
        return { providerMessageId: call.sid, status: call.status, from: call.from };
      } catch (err) {
        throw classifyTwilioError(err, 'call');
      }
    },

    lookupBy: 'recipient',

    /** The recipient's outbound calls in the window, but for ids already ours (a call carries no id of ours). */
    async lookup(query: LookupQuery): Promise<SendResult[]> {
      try {
        const calls = await client.calls.list({
          to: query.to,
          ...(query.from ? { from: query.from } : {}),
          startTimeAfter: query.sentAfter,
          startTimeBefore: query.sentBefore,
          pageSize: 100,
          limit: 200,
        });
        return calls
          .filter((c) => c.direction.startsWith('outbound') && !query.excludeIds?.includes(c.sid))
          .map((c) => ({ providerMessageId: c.sid, status: c.status, from: c.from }));
      } catch (err) {
        throw classifyTwilioError(err, 'call lookup');
      }
    },

    parseCallback(params: Record<string, string>): ProviderEvent {
      const sid = params.CallSid ?? '';
      const status = params.CallStatus ?? '';
      const duration = params.CallDuration ?? params.Duration;
      return {
        providerMessageId: sid,
        eventId:
          params.Digits !== undefined
            ? `${sid}:digits:${params.Digits}`
            : `${sid}:${status}:${params.SequenceNumber ?? ''}`,
        eventType: params.Digits !== undefined ? 'voice.gather' : `voice.${status}`,
        state: params.Digits !== undefined ? undefined : callStatusToState(status),
        errorCode: params.ErrorCode || undefined,
        durationSeconds: duration !== undefined && duration !== '' ? Number(duration) : undefined,
        digits: params.Digits,
        payload: params,
      };
    },
  };
}
