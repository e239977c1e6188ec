// Settles messages no batch will settle any more: each stranded batch reconciled on its account's send queue.
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SweepResult } from '../activities/dispatch';

export interface SweepStrandedSendsInput {
  /** batches looked at per run; the next run (a minute later) takes the rest */
  limit?: number;
}

const { findStrandedSends } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

export async function sweepStrandedSends(input: SweepStrandedSendsInput = {}): Promise<SweepResult> {
  const { batches, heartbeatTimeoutMs } = await findStrandedSends({ limit: input.limit ?? 100 });
  const total: SweepResult = { sent: 0, rescheduled: 0, left: 0 };
  // one at a time: a sweep is rare, and each batch first waits out its lease's fence
  for (const batch of batches) {
    const { sweepStrandedSends: sweep } = proxyActivities<Activities>({
      taskQueue: batch.taskQueue,
      // an account whose send queue no worker serves now waits for a later run, not this one
      scheduleToStartTimeout: '1 minute',
      startToCloseTimeout: '5 minutes',
      heartbeatTimeout: heartbeatTimeoutMs,
      // the next run finds whatever is still stranded
      retry: { maximumAttempts: 2 },
    });
    try {
      const r = await sweep(batch);
      total.sent += r.sent;
      total.rescheduled += r.rescheduled;
      total.left += r.left;
    } catch (err) {
      // visible in the history; what it left is found again by the next run
      if (!(err instanceof ActivityFailure)) throw err;
      total.left += batch.messageIds.length;
    }
  }
  return total;
}
