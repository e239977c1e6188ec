// The provider interfaces, one per channel: what dispatch hands a vendor and what it gets back.

export type Channel = 'sms' | 'voice' | 'email';
export type ProviderKind = 'twilio' | 'ses' | 'outbox';

/** What a vendor told us when it accepted a message (or what a lookup found). */
export interface SendResult {
  providerMessageId: string;
  /** the vendor's own status word at acceptance: queued, accepted, sent... */
  status?: string;
  /** segments the vendor counts (Twilio num_segments), when it says */
  segments?: number;
  price?: string;
  /** the sender the vendor actually used (a Messaging Service picks one) */
  from?: string;
}

/** Everything a reconciliation needs to find a message at the vendor after a crash. */
export interface LookupQuery {
  /** our message uuid: what an exact lookup ('own-id') finds it by */
  messageUuid: string;
  to: string;
  from?: string;
  /** SMS text, to tell two messages to the same person apart */
  body?: string;
  /** the window the send could have happened in */
  sentAfter: Date;
  sentBefore: Date;
  /** vendor ids already recorded on messages of ours: never one of the candidates */
  excludeIds?: readonly string[];
}

/** A delivery or status event parsed from a vendor's callback, ready for message_updates. */
export interface ProviderEvent {
  providerMessageId: string;
  /** unique per event, so a callback delivered twice is applied once */
  eventId: string;
  eventType: string;
  /** our message state this event implies, if any */
  state?: 'sent' | 'delivered' | 'undelivered' | 'failed';
  errorCode?: string;
  /** the recipient asked to stop (Twilio 21610) */
  optOut?: boolean;
  durationSeconds?: number;
  digits?: string;
  payload: Record<string, unknown>;
}

interface ProviderBase {
  readonly kind: ProviderKind;
  /** provider_accounts.key this instance sends for */
  readonly account: string;
  /**
   * How `lookup` finds a message: 'own-id', by our own message id (at most one, and it is that
   * message); 'recipient', every record the vendor holds to that recipient (from that sender, with
   * that text) in the window, which the caller must tell apart (lib/dispatch/reconcile.ts).
   */
  readonly lookupBy?: 'own-id' | 'recipient';
  /** what the vendor holds that may be the message; empty when it has nothing that could be */
  lookup?(query: LookupQuery): Promise<SendResult[]>;
  parseCallback?(params: Record<string, string>): ProviderEvent;
}

export interface SmsInput {
  messageUuid: string;
  to: string;
  /** a sender number; omitted when the account sends through a Messaging Service */
  from?: string;
  body: string;
  segments: number;
  statusCallback?: string;
  companyId: number;
}

export interface VoiceInput {
  messageUuid: string;
  to: string;
  from?: string;
  twiml: string;
  /** the text spoken, for the outbox and for operators; the vendor gets the TwiML */
  spokenText: string;
  statusCallback?: string;
  companyId: number;
}

export interface EmailInput {
  messageUuid: string;
  to: string;
  from: string;
  fromName?: string;
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  /** extra headers such as List-Unsubscribe */
  headers: { name: string; value: string }[];
  tags?: Record<string, string>;
  companyId: number;
}

export interface SmsProvider extends ProviderBase {
  readonly channel: 'sms';
  send(input: SmsInput): Promise<SendResult>;
}

export interface VoiceProvider extends ProviderBase {
  readonly channel: 'voice';
  send(input: VoiceInput): Promise<SendResult>;
}

export interface EmailProvider extends ProviderBase {
  readonly channel: 'email';
  send(input: EmailInput): Promise<SendResult>;
}

export type AnyProvider = SmsProvider | VoiceProvider | EmailProvider;

export interface ChannelInput {
  sms: SmsInput;
  voice: VoiceInput;
  email: EmailInput;
}
