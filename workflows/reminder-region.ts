// One region's share of a reminder run: screen the due messages page by page, then hand what is ready to dispatch, per channel.
import {
  continueAsNew,
  defineQuery,
  executeChild,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PageCursor, ScreenCounts } from '../activities/reminders';
import { SA, WORKFLOW_IDS } from '../lib/names';
import { dispatchMessages, type DispatchTotals } from './dispatch-messages';

type Channel = 'sms' | 'voice' | 'email';
const CHANNELS: Channel[] = ['sms', 'voice', 'email'];

export interface ReminderRegionInput {
  companyId: number;
  companyAlias: string;
  region: string;
  /** the run's clock (ISO) */
  now: string;
  /** the run's key: dispatch children are named from it, so a re-run finds the same ids */
  runKey: string;
  pageSize?: number;
  /** pages screened before continue-as-new (default 50) */
  pagesPerRun?: number;
  /** carried over by continue-as-new */
  carry?: { cursor: PageCursor; screened: ScreenCounts; pages: number };
}

export interface ReminderRegionResult {
  region: string;
  screened: ScreenCounts;
  sent: Partial<Record<Channel, DispatchTotals>>;
}

export interface ReminderRegionProgress extends ReminderRegionResult {
  stage: 'screening' | 'sending' | 'done';
  pages: number;
}

export const reminderRegionProgressQuery = defineQuery<ReminderRegionProgress>('progress');

/** Pages per run before continue-as-new, so a huge backlog never makes a long history. */
const PAGES_PER_RUN = 50;

// a local activity: dispatch waits for the screening, and a page takes less than a server round trip
const { screenDueMessages } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

const zero = (): ScreenCounts => ({
  seen: 0,
  deferred: 0,
  expired: 0,
  cancelled: 0,
  skipped: 0,
  ready: { sms: 0, voice: 0, email: 0 },
});

function add(into: ScreenCounts, page: ScreenCounts): void {
  into.seen += page.seen;
  into.deferred += page.deferred;
  into.expired += page.expired;
  into.cancelled += page.cancelled;
  into.skipped += page.skipped;
  for (const c of CHANNELS) into.ready[c] += page.ready[c];
}

export async function reminderRegion(input: ReminderRegionInput): Promise<ReminderRegionResult> {
  const progress: ReminderRegionProgress = {
    region: input.region,
    stage: 'screening',
    pages: input.carry?.pages ?? 0,
    screened: input.carry?.screened ?? zero(),
    sent: {},
  };
  setHandler(reminderRegionProgressQuery, () => progress);

  // what this workflow screens ready carries its id, and its dispatch sends only that (see migration 0032)
  const screenedBy = workflowInfo().workflowId;
  let cursor = input.carry?.cursor;
  for (let pagesThisRun = 0; ; pagesThisRun++) {
    const page = await screenDueMessages({
      companyId: input.companyId,
      region: input.region,
      now: input.now,
      cursor,
      limit: input.pageSize ?? 1000,
      screenedBy,
    });
    add(progress.screened, page);
    progress.pages++;
    if (!page.next) break;
    cursor = page.next;
    if (pagesThisRun + 1 >= (input.pagesPerRun ?? PAGES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof reminderRegion>({
        ...input,
        carry: { cursor, screened: progress.screened, pages: progress.pages },
      });
    }
  }

  // what is still scheduled and due after screening is dispatch's: one child per channel, the only sender
  progress.stage = 'sending';
  await Promise.all(
    CHANNELS.filter((c) => progress.screened.ready[c] > 0).map(async (channel) => {
      progress.sent[channel] = await executeChild(dispatchMessages, {
        workflowId: WORKFLOW_IDS.dispatch(input.companyAlias, channel, `${input.runKey}/${input.region}`),
        args: [
          {
            companyId: input.companyId,
            companyAlias: input.companyAlias,
            channel,
            region: input.region,
            dueBefore: input.now,
            screenedBy,
          },
        ],
        typedSearchAttributes: [
          { key: SA.CompanyAlias, value: input.companyAlias },
          { key: SA.Region, value: input.region },
          { key: SA.Channel, value: channel },
        ],
        staticSummary: `Send ${input.companyAlias}'s due ${channel} messages in ${input.region}`,
      });
    }),
  );
  progress.stage = 'done';
  return { region: input.region, screened: progress.screened, sent: progress.sent };
}
