// A company's reminder run: the messages of steps now due are made, then one child per region with due messages, each on its region's task queue; a summary at the end.
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  defineQuery,
  executeChild,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { SA, SCHEDULED_START_TIME, WORKFLOW_IDS, regionTaskQueue } from '../lib/names';
import { reminderRegion, type ReminderRegionResult } from './reminder-region';

export interface ReminderRunInput {
  companyAlias: string;
  /** the run's clock (ISO); unset = the schedule's action time, else the workflow's start */
  now?: string;
  pageSize?: number;
  pagesPerRun?: number;
}

export interface ReminderRunSummary {
  companyAlias: string;
  now: string;
  /** messages made by this run for plan steps that fell due */
  created: number;
  regions: ReminderRegionResult[];
  /** regions whose child failed, with the reason */
  failed: { region: string; error: string }[];
}

export interface ReminderRunProgress {
  stage: 'making due messages' | 'running regions' | 'done';
  now: string | null;
  regions: Record<string, 'running' | 'done' | 'failed'>;
}

export const reminderRunProgressQuery = defineQuery<ReminderRunProgress>('progress');

// a local activity: the run's first texts wait on it, and a round trip through the server costs as
// much as the work on a busy machine
const { prepareReminderRun } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** The injected clock: given, else when the schedule meant to run, else when this workflow started. */
function runClock(input: ReminderRunInput): string {
  if (input.now) return new Date(input.now).toISOString();
  const info = workflowInfo();
  const scheduled = info.typedSearchAttributes.get(SCHEDULED_START_TIME);
  return (scheduled ?? info.startTime).toISOString();
}

export async function reminderRun(input: ReminderRunInput): Promise<ReminderRunSummary> {
  const progress: ReminderRunProgress = { stage: 'making due messages', now: null, regions: {} };
  setHandler(reminderRunProgressQuery, () => progress);
  const now = runClock(input);
  progress.now = now;
  const { workflowId } = workflowInfo();

  // each step once per appointment time, however often this is retried or runs overlap (lib/messages)
  const company = await prepareReminderRun({ companyAlias: input.companyAlias, now });
  const summary: ReminderRunSummary = {
    companyAlias: input.companyAlias,
    now,
    created: company.created,
    regions: [],
    failed: [],
  };
  if (!company.active) {
    progress.stage = 'done';
    return summary;
  }
  progress.stage = 'running regions';
  await Promise.all(
    company.regions.map(async ({ region, channels }) => {
      progress.regions[region] = 'running';
      try {
        const result = await executeChild(reminderRegion, {
          workflowId: WORKFLOW_IDS.reminderRegion(workflowId, region),
          taskQueue: regionTaskQueue(region),
          args: [
            {
              companyId: company.companyId,
              companyAlias: input.companyAlias,
              region,
              now,
              runKey: workflowId,
              channels,
              pageSize: input.pageSize,
              pagesPerRun: input.pagesPerRun,
            },
          ],
          typedSearchAttributes: [
            { key: SA.CompanyAlias, value: input.companyAlias },
            { key: SA.Region, value: region },
          ],
          staticSummary: `Reminders of ${input.companyAlias} in ${region}`,
        });
        summary.regions.push(result);
        progress.regions[region] = 'done';
      } catch (err) {
        // one region's trouble must not stop the others; the run reports it at the end
        const error =
          err instanceof ChildWorkflowFailure ? (err.cause?.message ?? err.message) : (err as Error).message;
        summary.failed.push({ region, error });
        progress.regions[region] = 'failed';
      }
    }),
  );
  summary.regions.sort((a, b) => a.region.localeCompare(b.region));
  progress.stage = 'done';
  if (summary.failed.length) {
    throw ApplicationFailure.nonRetryable(
      `reminders of ${input.companyAlias} failed in ${summary.failed.map((f) => `${f.region} (${f.error})`).join(', ')}`,
      'ReminderRegionFailed',
      summary,
    );
  }
  return summary;
}
