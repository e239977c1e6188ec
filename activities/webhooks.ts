// Activities of outbound webhooks: notifyCompany (the entry other workflows call) and one signed delivery attempt.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { attemptDelivery, markDeliveryFailed } from '../lib/webhooks/deliver';
import { notifyCompany, UnknownWebhookEventError, type NotifyCompanyInput, type QueuedDelivery } from '../lib/webhooks/enqueue';
import { MissingSecretError } from '../lib/sources/secrets';
import { activityLog } from './activity-log';
import type { ActivityDeps } from './deps';

export type { NotifyCompanyInput, QueuedDelivery } from '../lib/webhooks/enqueue';
export type { WebhookEvent } from '../lib/webhooks/events';

export function createWebhookActivities({ sql, log }: ActivityDeps) {
  return {
    /**
     * Queues `event` for every active endpoint of the company that wants it and starts each delivery's
     * workflow (on this activity's task queue); returns at once, the deliveries retry on their own.
     */
    async notifyCompany(input: NotifyCompanyInput): Promise<QueuedDelivery[]> {
      const ctx = Context.current();
      try {
        return await notifyCompany({ sql, client: ctx.client, taskQueue: ctx.info.taskQueue }, input);
      } catch (err) {
        if (err instanceof UnknownWebhookEventError) throw ApplicationFailure.nonRetryable(err.message, 'UnknownWebhookEvent');
        throw err;
      }
    },

    async sendWebhook(input: { deliveryId: string; timeoutMs: number }): Promise<{ statusCode: number | null }> {
      const { attempt } = Context.current().info;
      let result;
      try {
        result = await attemptDelivery(sql, { ...input, attempt });
      } catch (err) {
        if (err instanceof MissingSecretError) throw ApplicationFailure.nonRetryable(err.message, 'MissingSecret');
        throw err;
      }
      activityLog(log, { deliveryId: input.deliveryId }).info({ outcome: result.outcome, statusCode: result.statusCode }, 'webhook attempt');
      if (result.outcome === 'delivered') return { statusCode: result.statusCode };
      if (result.outcome === 'permanent') throw ApplicationFailure.nonRetryable(result.error ?? 'refused', 'WebhookRejected');
      throw ApplicationFailure.create({
        message: result.error ?? 'failed',
        type: 'WebhookRetry',
        nextRetryDelay: result.retryAfterMs,
      });
    },

    async markWebhookFailed(input: { deliveryId: string; reason: string }): Promise<void> {
      await markDeliveryFailed(sql, input);
    },
  };
}
