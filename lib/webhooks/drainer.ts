// Keeps the one drainWebhooks workflow running: started by the process that hosts the pipeline queue.
import type { Client } from '@temporalio/client';
import { TASK_QUEUES, WORKFLOW_IDS } from '../names';
import { drainWebhooks, type DrainWebhooksInput } from '../../workflows/drain-webhooks';

/** Production pace: an event waits at most about a second before its delivery starts. */
export const DRAINER_DEFAULTS: DrainWebhooksInput = { pollMs: 1000, runForMs: 5 * 60_000, batchSize: 500 };

/** Starts the drainer unless it already runs (a stopped or failed one is started anew); returns its workflow id. */
export async function ensureWebhookDrainer(
  client: Client,
  opts: { taskQueue?: string; workflowId?: string; input?: Partial<DrainWebhooksInput> } = {},
): Promise<string> {
  const workflowId = opts.workflowId ?? WORKFLOW_IDS.webhookDrainer;
  await client.workflow.start(drainWebhooks, {
    taskQueue: opts.taskQueue ?? TASK_QUEUES.pipeline,
    workflowId,
    args: [{ ...DRAINER_DEFAULTS, ...opts.input }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: 'Webhook outbox: starts one delivery workflow for each event the database recorded',
  });
  return workflowId;
}
