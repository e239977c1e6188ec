// The events herald sends to companies' webhook endpoints, and the envelope every body has.

export const WEBHOOK_EVENTS = [
  'packet.completed',
  'packet.failed',
  'message.sent',
  'message.delivered',
  'message.undelivered',
  'message.failed',
  'message.replied',
  'webhook.test',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export function isWebhookEvent(value: string): value is WebhookEvent {
  return (WEBHOOK_EVENTS as readonly string[]).includes(value);
}

/** What a receiver gets: `id` is the delivery's uuid (stable across retries, for deduping). */
export interface WebhookEnvelope {
  id: string;
  event: WebhookEvent;
  company: string;
  created_at: string;
  data: Record<string, unknown>;
}

/** The exact bytes sent (and signed); built from the stored delivery, so every retry sends the same body. */
export function webhookBody(e: WebhookEnvelope): string {
  return JSON.stringify({
    id: e.id,
    event: e.event,
    company: e.company,
    created_at: e.created_at,
    data: e.data,
  });
}
