// The Temporal Schedule of each source's discovery: created, updated or removed to match the source row.
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleSpec,
} from '@temporalio/client';
import { SA, SCHEDULE_IDS, TASK_QUEUES, WORKFLOW_IDS } from '../names';
import type { DiscoverSourceInput } from '../../workflows/discover-source';
import type { StoredSource } from './store';

/** `15m`, `1h`, `1d`: an interval; anything else a source's schedule holds is a cron expression. */
export const isInterval = (schedule: string) => /^\d+(s|m|h|d)$/.test(schedule.trim());

/** An interval runs at that interval; five fields are a cron expression read in the company's time zone. */
export function scheduleSpecFor(schedule: string, timezone: string): ScheduleSpec {
  const text = schedule.trim();
  if (isInterval(text)) return { intervals: [{ every: text as `${number}m` }] };
  return { cronExpressions: [text], timezone };
}

export type ScheduleChange = 'created' | 'updated' | 'deleted' | 'none';

/**
 * Makes the source's schedule match its row: a schedule when it has one (paused while the source is
 * inactive), none when it has none. Runs skip while the previous discovery still runs, and a schedule
 * that missed runs while Temporal was down runs once, not once per missed run.
 */
export async function syncDiscoverySchedule(
  client: Client,
  source: StoredSource,
  opts: { timezone: string; taskQueue?: string },
): Promise<ScheduleChange> {
  const scheduleId = SCHEDULE_IDS.discoverSource(source.uuid);
  const handle = client.schedule.getHandle(scheduleId);
  const exists = await handle.describe().then(
    () => true,
    (err: unknown) => {
      if (err instanceof ScheduleNotFoundError) return false;
      throw err;
    },
  );
  if (!source.schedule) {
    if (!exists) return 'none';
    await handle.delete();
    return 'deleted';
  }
  const args: [DiscoverSourceInput] = [{ sourceUuid: source.uuid }];
  const options = {
    spec: scheduleSpecFor(source.schedule, opts.timezone),
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'discoverSource',
      workflowId: WORKFLOW_IDS.discoverSource(source.uuid),
      taskQueue: opts.taskQueue ?? TASK_QUEUES.pipeline,
      args,
      typedSearchAttributes: [{ key: SA.CompanyAlias, value: source.companyAlias }],
      staticSummary: `Discover new files of ${source.companyAlias}/${source.name} (${source.kind})`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
    typedSearchAttributes: [{ key: SA.CompanyAlias, value: source.companyAlias }],
    state: {
      paused: !source.active,
      note: source.active ? `source ${source.companyAlias}/${source.name}` : 'the source is inactive',
    },
  };
  if (exists) {
    await handle.update(() => options);
    return 'updated';
  }
  await client.schedule.create({ scheduleId, ...options });
  return 'created';
}
