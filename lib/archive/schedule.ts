// The nightly archive's Temporal Schedule: created if missing, brought in line with the configuration if not.
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
} from '@temporalio/client';
import { SCHEDULE_IDS, TASK_QUEUES, WORKFLOW_IDS } from '../names';

export interface ArchiveScheduleSettings {
  /** five-field cron, UTC */
  cron: string;
  batchSize: number;
}

export interface ArchiveScheduleState {
  scheduleId: string;
  cron: string;
  created: boolean;
  updated: boolean;
  nextRuns: string[];
}

const action = (s: ArchiveScheduleSettings) => ({
  type: 'startWorkflow' as const,
  workflowType: 'archiveMessages',
  taskQueue: TASK_QUEUES.pipeline,
  // Temporal appends the scheduled time, so each night's run has its own id
  workflowId: WORKFLOW_IDS.archive('nightly'),
  args: [{ batchSize: s.batchSize }],
  // the server keeps a cron only as calendars; the memo keeps the expression to compare and show
  memo: { cron: s.cron },
  staticSummary:
    'Nightly archive: final messages past retention to history and S3, old logs and packet files purged, histories exported',
});

function currentCron(d: ScheduleDescription): string | undefined {
  return d.action.type === 'startWorkflow' ? (d.action.memo?.cron as string | undefined) : undefined;
}

function currentBatchSize(d: ScheduleDescription): number | undefined {
  if (d.action.type !== 'startWorkflow') return undefined;
  return (d.action.args?.[0] as { batchSize?: number } | undefined)?.batchSize;
}

export async function ensureArchiveSchedule(
  client: Client,
  s: ArchiveScheduleSettings,
): Promise<ArchiveScheduleState> {
  const scheduleId = SCHEDULE_IDS.archive;
  let created = false;
  let updated = false;
  try {
    await client.schedule.create({
      scheduleId,
      spec: { cronExpressions: [s.cron] },
      action: action(s),
      // a night that is still running (a large backlog) is not overlapped by the next
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
    });
    created = true;
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(scheduleId);
  let description = await handle.describe();
  if (!created && (currentCron(description) !== s.cron || currentBatchSize(description) !== s.batchSize)) {
    await handle.update((prev) => ({ ...prev, spec: { cronExpressions: [s.cron] }, action: action(s) }));
    description = await handle.describe();
    updated = true;
  }
  return {
    scheduleId,
    cron: currentCron(description) ?? s.cron,
    created,
    updated,
    nextRuns: description.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
  };
}
