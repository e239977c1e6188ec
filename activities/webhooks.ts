// Activities of outbound webhooks: notifyCompany (the entry other workflows call), one signed delivery attempt,
// and the outbox drainer's run.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { attemptDelivery, markDeliveryFailed } from '../lib/webhooks/deliver';
import { drainWebhookOutbox } from '../lib/webhooks/drain';
import {
  notifyCompany,
  UnknownWebhookEventError,
  type NotifyCompanyInput,
  type QueuedDelivery,
} from '../lib/webhooks/enqueue';
import { MissingSecretError } from '../lib/sources/secrets';
import { activityLog } from './activity-log';
import type { DrainWebhooksInput } from '../workflows/drain-webhooks';
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
        if (err instanceof UnknownWebhookEventError)
          throw ApplicationFailure.nonRetryable(err.message, 'UnknownWebhookEvent');
        throw err;
      }
    },

    async sendWebhook(input: {
      deliveryId: string;
      timeoutMs: number;
    }): Promise<{ statusCode: number | null }> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      // heartbeats carry a cancellation to the activity: the request is cut within about a second
      const beat = setInterval(() => ctx.heartbeat(), 1000);
      let result;
      try {
        result = await attemptDelivery(sql, { ...input, attempt }, ctx.cancellationSignal);
      } catch (err) {
        if (err instanceof MissingSecretError)
          throw ApplicationFailure.nonRetryable(err.message, 'MissingSecret');
        throw err;
      } finally {
        clearInterval(beat);
      }
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      activityLog(log, { deliveryId: input.deliveryId }).info(
        { outcome: result.outcome, statusCode: result.statusCode },
        'webhook attempt',
      );
      if (result.outcome === 'delivered') return { statusCode: result.statusCode };
      if (result.outcome === 'permanent')
        throw ApplicationFailure.nonRetryable(result.error ?? 'refused', 'WebhookRejected');
      throw ApplicationFailure.create({
        message: result.error ?? 'failed',
        type: 'WebhookRetry',
        nextRetryDelay: result.retryAfterMs,
      });
    },

    /**
     * For `runForMs`: starts the delivery workflows (on this activity's task queue) of every event the
     * triggers recorded, looking again every `pollMs` while the outbox is empty; heartbeats as it goes.
     */
    async drainWebhookOutbox(input: DrainWebhooksInput): Promise<{ started: number }> {
      const ctx = Context.current();
      const deadline = Date.now() + input.runForMs;
      let started = 0;
      while (Date.now() < deadline) {
        // a full outbox never rests, so a cancellation is looked for on every round, not only in the sleep
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        const n = await drainWebhookOutbox(
          { sql, client: ctx.client, taskQueue: ctx.info.taskQueue },
          { limit: input.batchSize },
        );
        started += n;
        ctx.heartbeat({ started });
        // a full batch means more are waiting; otherwise rest (a cancellation ends the rest, and the run)
        if (n < input.batchSize) await ctx.sleep(Math.min(input.pollMs, Math.max(0, deadline - Date.now())));
      }
      if (started > 0) activityLog(log, {}).info({ started }, 'webhook deliveries started from the outbox');
      return { started };
    },

    async markWebhookFailed(input: { deliveryId: string; reason: string }): Promise<void> {
      await markDeliveryFailed(sql, input);
    },
  };
}
