// Sends a company's due messages of one channel: pages of ids, batches on the provider account's queue, failover, totals.
import {
  continueAsNew,
  defineQuery,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DispatchChannel } from '../activities/dispatch';
import { batchSender, noTotals, type DispatchTotals } from './send-batches';

export type { DispatchTotals } from './send-batches';

export interface DispatchMessagesInput {
  companyId: number;
  companyAlias: string;
  channel: DispatchChannel;
  region?: string;
  /** ISO time: messages due at or before it are sent */
  dueBefore: string;
  /** only messages this reminder-region workflow screened ready (unset = every due message) */
  screenedBy?: string;
  /** a particular account; unset = the company's account for the channel, else the channel's default */
  accountKey?: string;
  /** tries of a batch on an account before it is settled and failed over (default 5) */
  sendAttempts?: number;
  /** set by continue-as-new */
  cursor?: { afterId: number; batches: number; totals: DispatchTotals };
}

export const dispatchProgressQuery = defineQuery<DispatchTotals>('progress');

/** Pages per run before continue-as-new keeps the history short whatever the volume. */
const PAGES_PER_RUN = 25;

const READS = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
} as const;
/**
 * The route and the pages of ids are short reads that stand before the first batch: as local
 * activities they run inside the workflow task, with no round trip through the server's queues
 * each (two of them before the first text). Runs started before this change read them as
 * activities, which is what their histories replay.
 */
const LOCAL_READS = 'dispatch-local-reads';
const localReads = proxyLocalActivities<Activities>(READS);
const remoteReads = proxyActivities<Activities>(READS);

export async function dispatchMessages(input: DispatchMessagesInput): Promise<DispatchTotals> {
  const totals: DispatchTotals = { ...(input.cursor?.totals ?? noTotals()) };
  setHandler(dispatchProgressQuery, () => totals);
  const { workflowId } = workflowInfo();
  const { describeDispatchRoute, selectDueMessages } = patched(LOCAL_READS) ? localReads : remoteReads;
  const route = await describeDispatchRoute({
    companyId: input.companyId,
    channel: input.channel,
    accountKey: input.accountKey,
  });
  const batches = batchSender({
    companyId: input.companyId,
    workflowId,
    route,
    attempts: input.sendAttempts ?? 5,
    totals,
  });

  let afterId = input.cursor?.afterId ?? 0;
  for (let page = 0; ; page++) {
    const ids = await selectDueMessages({
      companyId: input.companyId,
      channel: input.channel,
      region: input.region,
      dueBefore: input.dueBefore,
      screenedBy: input.screenedBy,
      afterId,
      limit: batches.pageSize,
    });
    await batches.send(ids);
    if (ids.length < batches.pageSize) break;
    afterId = ids[ids.length - 1]!;
    if (page + 1 >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await batches.drain();
      await continueAsNew<typeof dispatchMessages>({
        ...input,
        cursor: { afterId, batches: totals.batches, totals },
      });
    }
  }
  await batches.drain();
  return totals;
}
