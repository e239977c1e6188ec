// Drains the webhook outbox for good: a long heartbeating activity polls for new deliveries; continues as new.
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';

export interface DrainWebhooksInput {
  /** how long the outbox may sit idle before it is looked at again */
  pollMs: number;
  /** one activity's run; a run ends, the next starts (the history grows by one activity per run) */
  runForMs: number;
  /** deliveries started per look */
  batchSize: number;
}

/** runs per workflow execution before it continues as new (a day at five-minute runs) */
const RUNS_PER_EXECUTION = 288;

export async function drainWebhooks(input: DrainWebhooksInput): Promise<never> {
  const { drainWebhookOutbox } = proxyActivities<Activities>({
    startToCloseTimeout: input.runForMs + 60_000,
    // a worker that dies mid-run is noticed within this and the run moves to another worker
    heartbeatTimeout: Math.max(30_000, input.pollMs * 3),
    // never gives up: an unreachable database or Temporal is waited out
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  for (let run = 0; run < RUNS_PER_EXECUTION && !workflowInfo().continueAsNewSuggested; run++) {
    await drainWebhookOutbox(input);
  }
  return continueAsNew<typeof drainWebhooks>(input);
}
