// A company's reminder run: the messages of steps now due are made, its most urgent page screened and sent, then one child per region with due messages, each on its region's task queue; a summary at the end.
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  defineQuery,
  executeChild,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ScreenCounts, ScreenPageResult } from '../activities/reminders';
import { SA, SCHEDULED_START_TIME, WORKFLOW_IDS, regionTaskQueue } from '../lib/names';
import { addScreenCounts } from '../lib/workflow-helpers/screen-counts';
import { reminderRegion, type ReminderRegionResult } from './reminder-region';
import { channelSenders, SEND_ATTEMPTS, type DispatchTotals } from './send-batches';

type Channel = 'sms' | 'voice' | 'email';
const CHANNELS: Channel[] = ['sms', 'voice', 'email'];

export interface ReminderRunInput {
  companyAlias: string;
  /** the run's clock (ISO); unset = the schedule's action time, else the workflow's start */
  now?: string;
  pageSize?: number;
  pagesPerRun?: number;
  /** due messages the run screens and sends itself before its regions start (default FIRST_PAGE; 0: none, the regions screen all) */
  firstPage?: number;
}

export interface ReminderRunSummary {
  companyAlias: string;
  now: string;
  /**
   * messages this run made for plan steps that fell due, whatever retries its first step had (an
   * attempt that made them and was retried counts); not those earlier runs made
   */
  created: number;
  /** the most urgent due messages, in every region, which the run screened and sent itself before its regions started */
  firstPage?: FirstPageResult;
  regions: ReminderRegionResult[];
  /** regions whose child failed, with the reason */
  failed: { region: string; error: string }[];
}

export interface FirstPageResult {
  screened: ScreenCounts;
  sent: Partial<Record<Channel, DispatchTotals>>;
  /** why its sending failed, if it did (the run then fails at the end, as for a region) */
  error?: string;
}

export interface ReminderRunProgress {
  stage: 'making due messages' | 'sending the first page' | 'running regions' | 'done';
  now: string | null;
  regions: Record<string, 'running' | 'done' | 'failed'>;
}

export const reminderRunProgressQuery = defineQuery<ReminderRunProgress>('progress');

// a local activity: the run's first texts wait on it, and a round trip through the server costs as
// much as the work on a busy machine
const { prepareReminderRun, screenDueMessages, describeDispatchRoute } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/**
 * The run screens this many of its most urgent due messages itself, in every region, and sends them
 * before its regions start: the first texts need not wait for region children to start, run their
 * first workflow task and screen their first pages on a busy worker (about a second when ten runs
 * start at once). When that page holds every due message (a region's page size: the usual run) no
 * region child starts at all, and a busy moment is ten workflows' work, not eighty; the regions page
 * through the rest of a larger backlog.
 */
const FIRST_PAGE = 1000;
const RUN_SENDS_FIRST_PAGE = 'run-sends-first-page';
/**
 * The first page's most urgent messages are screened alone and their batches started before the rest
 * of the page is screened: the first texts wait for a hundred messages' screening, not a thousand's.
 */
const OPENING = 100;
const RUN_SCREENS_OPENING = 'run-screens-opening';
/**
 * The rest of the first page is an ordinary activity: the workflow task that starts the opening's
 * batches completes at once, where an unfinished local activity would hold them back until it is done.
 */
const { screenDueMessages: screenRest } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
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
  const { workflowId, runId } = workflowInfo();

  // each step once per appointment time, however often this is retried or runs overlap (lib/messages);
  // what the run made is counted under its run id, so a retry after a commit still reports it
  const company = await prepareReminderRun({ companyAlias: input.companyAlias, now, runId });
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
  let sendingFirstPage: Promise<void> = Promise.resolve();
  /** the regions to start a child for */
  let regions = company.regions;
  const firstPage = input.firstPage ?? FIRST_PAGE;
  if (firstPage > 0 && company.regions.length && patched(RUN_SENDS_FIRST_PAGE)) {
    progress.stage = 'sending the first page';
    const { companyId } = company;
    const page = await sendFirstPage({ companyId, now, limit: firstPage, regions }, summary);
    sendingFirstPage = page.done;
    regions = page.more ? company.regions : [];
  }
  progress.stage = 'running regions';
  const regionsDone = Promise.all(
    regions.map(async ({ region, channels }) => {
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
  await Promise.all([regionsDone, sendingFirstPage]);
  summary.regions.sort((a, b) => a.region.localeCompare(b.region));
  progress.stage = 'done';
  if (summary.failed.length || summary.firstPage?.error) {
    const failed = summary.failed.map((f) => `${f.region} (${f.error})`);
    if (summary.firstPage?.error) failed.unshift(`its first page (${summary.firstPage.error})`);
    throw ApplicationFailure.nonRetryable(
      `reminders of ${input.companyAlias} failed in ${failed.join(', ')}`,
      'ReminderRegionFailed',
      summary,
    );
  }
  return summary;
}

/**
 * Screens the company's most urgent due messages (in every region; marked with the run's id, which
 * its regions pass over) and starts their batches; resolves once they are started, with `done` for
 * their end and whether more was due than the page held. Send-once holds as for any batch: the claim
 * takes only what is still scheduled.
 */
async function sendFirstPage(
  {
    companyId,
    now,
    limit,
    regions,
  }: { companyId: number; now: string; limit: number; regions: { channels: Channel[] }[] },
  summary: ReminderRunSummary,
): Promise<{ done: Promise<void>; more: boolean }> {
  const { workflowId } = workflowInfo();
  const sent: FirstPageResult['sent'] = {};
  const senders = channelSenders({
    companyId,
    workflowId,
    attempts: SEND_ATTEMPTS,
    route: (channel) => describeDispatchRoute({ companyId, channel }),
    sent,
  });
  // read alongside the screening, not after it
  for (const channel of new Set(regions.flatMap((r) => r.channels))) senders.prefetch(channel);
  const opening = patched(RUN_SCREENS_OPENING) ? Math.min(OPENING, limit) : limit;
  const page = await screenDueMessages({ companyId, now, limit: opening, screenedBy: workflowId });
  const { readyIds: _ids, next: _next, ...screened } = page;
  const result: FirstPageResult = { screened, sent };
  summary.firstPage = result;
  const sendPage = async (p: ScreenPageResult) => {
    for (const channel of CHANNELS)
      if (p.readyIds[channel].length) await senders.send(channel, p.readyIds[channel]);
  };
  let more = page.next !== undefined;
  try {
    await sendPage(page);
    if (page.next && limit > opening) {
      const rest = await screenRest({
        companyId,
        now,
        cursor: page.next,
        limit: limit - opening,
        screenedBy: workflowId,
      });
      addScreenCounts(result.screened, rest);
      more = rest.next !== undefined;
      await sendPage(rest);
    }
  } catch (err) {
    // like a region's trouble: the regions still run (they screen what the run did not), and the run
    // reports it at the end
    result.error = reasonOf(err);
    return { done: senders.drain().catch(() => undefined), more: true };
  }
  return {
    done: senders.drain().catch((err: unknown) => {
      result.error = reasonOf(err);
    }),
    more,
  };
}

/** What went wrong, as a failure's cause says it. */
const reasonOf = (err: unknown) =>
  err instanceof Error ? (err.cause instanceof Error ? err.cause : err).message : String(err);
