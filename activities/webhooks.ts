// Activities of outbound webhooks: notifyCompany (the entry other workflows call), one signed delivery attempt,
// and the outbox drainer's run (which makes first attempts itself).
import { ApplicationFailure, Context } from '@temporalio/activity';
import { attemptDelivery, markDeliveryFailed } from '../lib/webhooks/deliver';
import { drainWebhookOutbox, type DrainCounts } from '../lib/webhooks/drain';
import {
  notifyCompany,
  UnknownWebhookEventError,
  type NotifyCompanyInput,
  type QueuedDelivery,
} from '../lib/webhooks/enqueue';
import { DEFAULT_SECRET_ENV_PREFIXES, type SecretEnv } from '../lib/sources/secrets';
import { activityLog } from './activity-log';
import type { DrainWebhooksInput } from '../workflows/drain-webhooks';
import type { ActivityDeps } from './deps';

export type { NotifyCompanyInput, QueuedDelivery } from '../lib/webhooks/enqueue';
export type { WebhookEvent } from '../lib/webhooks/events';

/** Drainer passes running at once in one activity. */
const PASSES_AT_ONCE = 4;

export function createWebhookActivities({ sql, log, secretEnvPrefixes }: ActivityDeps) {
  const secrets: SecretEnv = { env: process.env, prefixes: secretEnvPrefixes ?? DEFAULT_SECRET_ENV_PREFIXES };
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
      /** attempts the outbox drainer made before this workflow took over */
      attemptsBefore?: number;
    }): Promise<{ statusCode: number | null }> {
      const ctx = Context.current();
      const attempt = (input.attemptsBefore ?? 0) + ctx.info.attempt;
      // heartbeats carry a cancellation to the activity: the request is cut within about a second
      const beat = setInterval(() => ctx.heartbeat(), 1000);
      let result;
      try {
        result = await attemptDelivery(
          sql,
          { deliveryId: input.deliveryId, timeoutMs: input.timeoutMs, attempt },
          secrets,
          ctx.cancellationSignal,
        );
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
     * For `runForMs`: delivers the events the triggers recorded (first attempts here, retries in
     * workflows on this activity's task queue), several passes at once so one slow endpoint does not
     * hold up the rest, looking again every `pollMs` while the outbox is empty; heartbeats as it goes.
     */
    async drainWebhookOutbox(input: DrainWebhooksInput): Promise<DrainCounts> {
      const ctx = Context.current();
      const deadline = Date.now() + input.runForMs;
      const totals: DrainCounts = { claimed: 0, delivered: 0, failed: 0, retrying: 0, cancelled: 0 };
      const deps = { sql, client: ctx.client, taskQueue: ctx.info.taskQueue, secrets };
      const lane = async () => {
        while (Date.now() < deadline && !ctx.cancellationSignal.aborted) {
          const pass = await drainWebhookOutbox(deps, {
            limit: input.batchSize,
            cancelled: ctx.cancellationSignal,
          });
          for (const k of Object.keys(totals) as (keyof DrainCounts)[]) totals[k] += pass[k];
          ctx.heartbeat(totals);
          // a full batch means more are waiting; otherwise rest (a cancellation ends the rest, and the
          // run, once the other lanes' passes have recorded what their cut-short attempts got)
          if (pass.claimed < input.batchSize)
            await ctx
              .sleep(Math.min(input.pollMs, Math.max(0, deadline - Date.now())))
              .catch((err: unknown) => {
                if (!ctx.cancellationSignal.aborted) throw err;
              });
        }
      };
      // a pass waits for its slowest endpoint (up to its timeout, a minute at most): alive meanwhile,
      // and a cancellation comes only in a heartbeat's answer (forwarded as the worker's throttle allows)
      const alive = setInterval(() => ctx.heartbeat(totals), 1_000);
      try {
        await Promise.all(Array.from({ length: PASSES_AT_ONCE }, lane));
      } finally {
        clearInterval(alive);
      }
      if (totals.claimed > 0) activityLog(log, {}).info(totals, 'webhook outbox drained');
      // a lane stops at its next round once cancelled; the run ends as cancelled, not as done
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      return totals;
    },

    async markWebhookFailed(input: { deliveryId: string; reason: string }): Promise<void> {
      await markDeliveryFailed(sql, input);
    },
  };
}
