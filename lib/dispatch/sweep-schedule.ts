// The stranded-send sweep's Temporal Schedule: every minute on the pipeline queue, created if missing.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { SCHEDULE_IDS, TASK_QUEUES, WORKFLOW_IDS } from '../names';

export async function ensureSendSweepSchedule(client: Client): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: SCHEDULE_IDS.sendSweep,
      spec: { intervals: [{ every: '1 minute' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'sweepStrandedSends',
        taskQueue: TASK_QUEUES.pipeline,
        workflowId: WORKFLOW_IDS.sendSweep,
        args: [{}],
        staticSummary:
          "Send sweep: reconciles messages left in 'sending' or 'unknown' by batches no attempt runs any more",
      },
      // a sweep still waiting out a lease's fence is not overlapped by the next
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}
