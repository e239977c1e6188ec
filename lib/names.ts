// The one place that names task queues, search attributes and id formats shared by workers and clients.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes herald registers on its Temporal namespace; all Keyword, never personal data. */
export const SEARCH_ATTRIBUTES = {
  CompanyAlias: 'CompanyAlias',
  PacketId: 'PacketId',
  PacketStage: 'PacketStage',
  Region: 'Region',
  Channel: 'Channel',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;

export const SEARCH_ATTRIBUTE_TYPE = 'Keyword' as const;

/** Typed keys for workflow code (`upsertSearchAttributes`) and clients (`typedSearchAttributes`). */
export const SA = {
  CompanyAlias: defineSearchAttributeKey(SEARCH_ATTRIBUTES.CompanyAlias, SearchAttributeType.KEYWORD),
  PacketId: defineSearchAttributeKey(SEARCH_ATTRIBUTES.PacketId, SearchAttributeType.KEYWORD),
  PacketStage: defineSearchAttributeKey(SEARCH_ATTRIBUTES.PacketStage, SearchAttributeType.KEYWORD),
  Region: defineSearchAttributeKey(SEARCH_ATTRIBUTES.Region, SearchAttributeType.KEYWORD),
  Channel: defineSearchAttributeKey(SEARCH_ATTRIBUTES.Channel, SearchAttributeType.KEYWORD),
} as const;

/** Set by Temporal on workflows a Schedule starts: the time the action was due (a reminder run's clock). */
export const SCHEDULED_START_TIME = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

/** Task queues. Dispatch runs one queue per region (and, later, per provider account). */
export const TASK_QUEUES = {
  /** ingest, discovery, archival, reminder-run parents and the system check */
  pipeline: 'herald-pipeline',
} as const;

export function regionTaskQueue(region: string): string {
  return `herald-region-${region}`;
}

export function providerTaskQueue(provider: string, account: string): string {
  return `herald-send-${provider}-${account}`;
}

/** Workflow ids are derived from business keys so a re-run of the same thing is idempotent. */
export const WORKFLOW_IDS = {
  readinessCheck: (companyAlias: string, runKey: string) => `readiness/${companyAlias}/${runKey}`,
  ingestPacket: (packetUuid: string) => `ingest/${packetUuid}`,
  /** an operator's re-run of a packet (herald packets replay|reset), numbered per packet */
  ingestReplay: (packetUuid: string, run: number) => `ingest/${packetUuid}/replay-${run}`,
  discoverSource: (sourceUuid: string) => `discover/${sourceUuid}`,
  reminderRun: (companyAlias: string, runKey: string) => `reminders/${companyAlias}/${runKey}`,
  reminderRegion: (parentId: string, region: string) => `${parentId}/region/${region}`,
  archive: (runKey: string) => `archive/${runKey}`,
  /** one webhook event to one endpoint; the delivery's uuid makes a repeat of the same event a no-op */
  webhookDelivery: (deliveryUuid: string) => `webhook/${deliveryUuid}`,
  /** the one long-running drainer of the webhook outbox (deliveries the database's triggers recorded) */
  webhookDrainer: 'webhooks/drain',
  /** one company's due messages of one channel (and region), sent through its provider account */
  dispatch: (companyAlias: string, channel: string, runKey: string) =>
    `dispatch/${companyAlias}/${channel}/${runKey}`,
  /** the minutely sweep of messages no batch will settle any more (Temporal appends the run's time) */
  sendSweep: 'sends/sweep',
} as const;

/** Who owns a message in 'sending': the batch of a dispatch workflow (stable across activity retries). */
export const DISPATCH_TOKEN = (workflowId: string, batch: number, account: string) =>
  `${workflowId}#${batch}@${account}`;

/** Paths the HTTP ingress serves for provider callbacks; dispatch puts them into what it sends. */
export const INGRESS_PATHS = {
  twilioSmsStatus: '/callbacks/twilio/sms/status',
  twilioVoiceStatus: '/callbacks/twilio/voice/status',
  twilioVoiceGather: '/callbacks/twilio/voice/gather',
  /** texts people send to our numbers (replies, STOP); set as the number's messaging webhook at Twilio */
  twilioSmsInbound: '/callbacks/twilio/sms/inbound',
  sesEvents: '/callbacks/ses/events',
  emailUnsubscribe: '/unsubscribe',
} as const;

/**
 * The query parameter that carries our own message uuid on every callback URL a provider request
 * names (status callbacks, a call's gather action): what comes back is matched by it.
 */
export const OWN_ID_PARAM = 'm';

export const SCHEDULE_IDS = {
  discoverSource: (sourceUuid: string) => `discover-source/${sourceUuid}`,
  reminders: (companyAlias: string) => `reminders/${companyAlias}`,
  archive: 'archive/nightly',
  sendSweep: 'sends/sweep',
} as const;
