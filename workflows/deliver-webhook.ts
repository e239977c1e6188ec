// Delivers one webhook event to one endpoint, retrying with backoff; 4xx other than 408/429 ends it at once.
import { ActivityFailure, ApplicationFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';

export interface DeliverWebhookInput {
  deliveryId: string;
  /** attempts in all, first included (the endpoint's max_attempts) */
  maxAttempts: number;
  /** the first retry's delay; each next one doubles, up to an hour */
  initialIntervalMs: number;
  /** one request's time limit */
  timeoutMs: number;
  /** attempts the outbox drainer already made; this workflow makes the rest, the first after `firstRetryInMs` */
  attemptsMade?: number;
  firstRetryInMs?: number;
}

const { markWebhookFailed } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 20 },
});

/** the longest wait between two attempts */
const HOUR_MS = 3_600_000;

export async function deliverWebhook(input: DeliverWebhookInput): Promise<{ delivered: true }> {
  const made = input.attemptsMade ?? 0;
  // the retry policy is the endpoint's, so the proxy is made per delivery; after the drainer's
  // attempts it goes on where they stopped (the next wait doubles the first)
  const { sendWebhook } = proxyActivities<Activities>({
    startToCloseTimeout: input.timeoutMs + 30_000,
    retry: {
      initialInterval: Math.min(HOUR_MS, input.initialIntervalMs * 2 ** made),
      backoffCoefficient: 2,
      maximumInterval: HOUR_MS,
      maximumAttempts: input.maxAttempts - made,
      nonRetryableErrorTypes: ['WebhookRejected', 'MissingSecret'],
    },
  });
  try {
    if (made > 0)
      await sleep(input.firstRetryInMs ?? Math.min(HOUR_MS, input.initialIntervalMs * 2 ** (made - 1)));
    await sendWebhook({ deliveryId: input.deliveryId, timeoutMs: input.timeoutMs, attemptsBefore: made });
    return { delivered: true };
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    const reason = cause instanceof Error ? cause.message : String(cause);
    await markWebhookFailed({ deliveryId: input.deliveryId, reason });
    throw ApplicationFailure.nonRetryable(`webhook not delivered: ${reason}`, 'WebhookNotDelivered');
  }
}
