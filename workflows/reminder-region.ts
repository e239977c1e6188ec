// One region's share of a reminder run: screen the due messages page by page and send what each page let through, per channel.
import {
  continueAsNew,
  defineQuery,
  executeChild,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PageCursor, ScreenCounts } from '../activities/reminders';
import { SA, WORKFLOW_IDS } from '../lib/names';
import { addScreenCounts } from '../lib/workflow-helpers/screen-counts';
import { dispatchMessages } from './dispatch-messages';
import { channelSenders, SEND_ATTEMPTS, sumTotals, type DispatchTotals } from './send-batches';

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
  /** the channels of its due messages when the run started it: their routes are read while the first page is screened */
  channels?: Channel[];
  pageSize?: number;
  /** pages screened before continue-as-new (default 50) */
  pagesPerRun?: number;
  /** carried over by continue-as-new */
  carry?: {
    cursor: PageCursor;
    screened: ScreenCounts;
    pages: number;
    /** what earlier runs sent themselves */
    sent?: Partial<Record<Channel, DispatchTotals>>;
    /** every earlier run sent what it screened (unset: some left theirs to a dispatch child at the end) */
    sentOwnPages?: boolean;
  };
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

/**
 * Each screened page's ready messages go to the send queue from here, while the next page is
 * screened: the first batch no longer waits for the whole region's screening, a dispatch child's
 * start and its own reads of the route and the ids. Runs started before this change hand the
 * screened messages to a `dispatchMessages` child per channel, which is what their histories replay.
 */
const SENDS_SCREENED_PAGES = 'region-sends-screened-pages';

const READS = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
} as const;
// local activities: sending waits for the screening, and a page takes less than a server round trip
const local = proxyLocalActivities<Activities>(READS);
/**
 * A page screened while batches are waiting to start is an ordinary activity: the workflow task
 * that schedules them completes at once, where an unfinished local activity would hold it (and the
 * batches with it) open until the page is done.
 */
const remote = proxyActivities<Activities>(READS);

const zero = (): ScreenCounts => ({
  seen: 0,
  deferred: 0,
  expired: 0,
  cancelled: 0,
  skipped: 0,
  ready: { sms: 0, voice: 0, email: 0 },
});

export async function reminderRegion(input: ReminderRegionInput): Promise<ReminderRegionResult> {
  const progress: ReminderRegionProgress = {
    region: input.region,
    stage: 'screening',
    pages: input.carry?.pages ?? 0,
    screened: input.carry?.screened ?? zero(),
    sent: { ...input.carry?.sent },
  };
  setHandler(reminderRegionProgressQuery, () => progress);

  // what this workflow screens ready carries its id, and only this workflow sends it (see migration 0032)
  const screenedBy = workflowInfo().workflowId;
  const sendsPages = patched(SENDS_SCREENED_PAGES);
  // continued from a run of the code before, which left what it screened for a dispatch child
  const leftUnsent = input.carry !== undefined && !input.carry.sentOwnPages;
  const senders = channelSenders({
    companyId: input.companyId,
    workflowId: screenedBy,
    attempts: SEND_ATTEMPTS,
    route: (channel) => local.describeDispatchRoute({ companyId: input.companyId, channel }),
    sent: progress.sent,
  });
  // the routes of the channels the run saw due are read alongside the first page, not after it; a
  // route that cannot be read fails the region only if the channel has something to send
  if (sendsPages && !input.carry) for (const channel of input.channels ?? []) senders.prefetch(channel);

  let cursor = input.carry?.cursor;
  for (let pagesThisRun = 0; ; pagesThisRun++) {
    const screen = sendsPages && senders.sending ? remote : local;
    const page = await screen.screenDueMessages({
      companyId: input.companyId,
      region: input.region,
      now: input.now,
      cursor,
      limit: input.pageSize ?? 1000,
      screenedBy,
      // the run sends its first page itself
      passOver: input.runKey,
    });
    addScreenCounts(progress.screened, page);
    progress.pages++;
    if (sendsPages) {
      for (const channel of CHANNELS) {
        if (page.readyIds[channel].length) await senders.send(channel, page.readyIds[channel]);
      }
    }
    if (!page.next) break;
    cursor = page.next;
    if (pagesThisRun + 1 >= (input.pagesPerRun ?? PAGES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      await senders.drain();
      await continueAsNew<typeof reminderRegion>({
        ...input,
        carry: {
          cursor,
          screened: progress.screened,
          pages: progress.pages,
          sent: progress.sent,
          sentOwnPages: sendsPages && !leftUnsent,
        },
        // read again by the next run: a route is as fresh as the run that uses it
        channels: undefined,
      });
    }
  }

  progress.stage = 'sending';
  if (sendsPages) await senders.drain();
  if (!sendsPages || leftUnsent) await dispatchScreened(input, progress, screenedBy);
  progress.stage = 'done';
  return { region: input.region, screened: progress.screened, sent: progress.sent };
}

/** What this workflow screened ready and did not send itself: one dispatch child per channel sends it. */
async function dispatchScreened(
  input: ReminderRegionInput,
  progress: ReminderRegionProgress,
  screenedBy: string,
): Promise<void> {
  await Promise.all(
    CHANNELS.filter((c) => progress.screened.ready[c] > 0).map(async (channel) => {
      const totals = await executeChild(dispatchMessages, {
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
      const before = progress.sent[channel];
      progress.sent[channel] = before ? sumTotals(before, totals) : totals;
    }),
  );
}
