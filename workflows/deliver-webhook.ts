// Delivers one webhook event to one endpoint, retrying with backoff; 4xx other than 408/429 ends it at once.
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

export interface DeliverWebhookInput {
  deliveryId: string;
  /** attempts in all, first included (the endpoint's max_attempts) */
  maxAttempts: number;
  /** the first retry's delay; each next one doubles, up to an hour */
  initialIntervalMs: number;
  /** one request's time limit */
  timeoutMs: number;
}

const { markWebhookFailed } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 20 },
});

export async function deliverWebhook(input: DeliverWebhookInput): Promise<{ delivered: true }> {
  // the retry policy is the endpoint's, so the proxy is made per delivery
  const { sendWebhook } = proxyActivities<Activities>({
    startToCloseTimeout: input.timeoutMs + 30_000,
    retry: {
      initialInterval: input.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: '1 hour',
      maximumAttempts: input.maxAttempts,
      nonRetryableErrorTypes: ['WebhookRejected', 'MissingSecret'],
    },
  });
  try {
    await sendWebhook({ deliveryId: input.deliveryId, timeoutMs: input.timeoutMs });
    return { delivered: true };
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    const reason = cause instanceof Error ? cause.message : String(cause);
    await markWebhookFailed({ deliveryId: input.deliveryId, reason });
    throw ApplicationFailure.nonRetryable(`webhook not delivered: ${reason}`, 'WebhookNotDelivered');
  }
}
