// Ingests one data packet: prepare, stage rows, merge, count regions, done (or failed with a reason a person can act on).
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PacketStage, PacketSummary } from '../activities/ingest';
import { SA } from '../lib/names';
import { HOLDING_PROBLEMS } from '../lib/workflow-helpers/held-packets';

const retry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 20,
};

const { preparePacket, countPacketRegions, shardPacketContacts, finishPacket } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry,
});
// Streams the whole file: hours for a huge one, so liveness comes from heartbeats (one per committed
// chunk, and every few seconds), and a retry resumes from the last one.
const { stagePacketRows } = proxyActivities<Activities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '20 seconds',
  // a cancelled ingest waits for the load to stop, so no staging row is written after the packet is closed
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry,
});
// One transaction each, minutes for millions of rows; a lost worker is noticed by its missing heartbeat.
const { mergePacketRows, planPacketMessages } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry,
});

/** Stagings of one run before it gives up on staging rows that keep disappearing (a crash loop). */
const MAX_STAGINGS = 5;

export interface IngestProgress {
  stage: PacketStage;
  fileName: string | null;
  rowsRead: number;
  rowsRejected: number;
  rowsLoaded: number;
  rowsDuplicate: number;
  error: string | null;
}

export const ingestProgressQuery = defineQuery<IngestProgress>('progress');

/**
 * Reminder messages are made by the reminder run when their steps fall due; an ingest the previous
 * release started still has its planning step, which this marks the end of.
 */
const REMINDERS_MADE_WHEN_DUE = 'reminders-made-when-due';

/** Since this change, a cancellation no longer stops an ingest whose rows are merged. */
const FINISHES_ONCE_MERGED = 'finishes-once-merged';

/**
 * The step after the merge was scheduled as `shardPacketContacts` before it was named for what it does;
 * histories from before this marker replay with the old activity name (both names are registered).
 */
const REGIONS_COUNTED_NAME = 'regions-counted-name';

/**
 * Where a run starts (`herald packets replay|reset`): `fetched` re-reads the raw bytes (the default and
 * a first ingest); `loaded` counts the merged contacts by region again; `regions_counted` only finishes
 * the packet.
 */
export type IngestFrom = 'fetched' | 'loaded' | 'regions_counted';

export async function ingestPacket(input: {
  packetId: string;
  /** `sharded`: the name of `regions_counted` in runs started by an earlier release */
  from?: IngestFrom | 'sharded';
}): Promise<PacketSummary> {
  const { packetId } = input;
  const progress: IngestProgress = {
    stage: 'received',
    fileName: null,
    rowsRead: 0,
    rowsRejected: 0,
    rowsLoaded: 0,
    rowsDuplicate: 0,
    error: null,
  };
  setHandler(ingestProgressQuery, () => progress);
  const reached = (stage: PacketStage) => {
    progress.stage = stage;
    upsertSearchAttributes([{ key: SA.PacketStage, value: stage }]);
    setCurrentDetails(describe(progress));
  };

  const from = input.from === 'sharded' ? 'regions_counted' : (input.from ?? 'fetched');
  try {
    if (from === 'fetched') {
      const prepared = await preparePacket({ packetId });
      progress.fileName = prepared.fileName;
      reached('fetched');
      // staging rows live in an unlogged table: when a crash empties it between staging and merge, the
      // merge says so and the file is staged again, never merged short
      for (let staging = 1; ; staging += 1) {
        const staged = await stagePacketRows({ packetId });
        progress.rowsRead = staged.rowsRead;
        progress.rowsRejected = staged.rowsRejected;
        reached('parsed');
        const merged = await mergePacketRows({ packetId });
        if (!('stagingLost' in merged)) {
          progress.rowsLoaded = merged.rowsLoaded;
          progress.rowsDuplicate = merged.rowsDuplicate;
          break;
        }
        if (staging >= MAX_STAGINGS) {
          throw ApplicationFailure.create({
            message: `the staged rows were lost ${staging} times before the merge (${merged.stagingLost.found} found of ${merged.stagingLost.staged ?? 'none recorded'}); is Postgres restarting? Reset the packet once it is stable`,
            type: 'StagingLost',
          });
        }
      }
      reached('loaded');
    }
    const finish = async () => {
      if (from !== 'regions_counted') {
        const countRegions = patched(REGIONS_COUNTED_NAME) ? countPacketRegions : shardPacketContacts;
        await countRegions({ packetId });
        reached('regions_counted');
      }
      if (!patched(REMINDERS_MADE_WHEN_DUE)) {
        await planPacketMessages({ packetId });
        reached('planned');
      }
      const summary = await finishPacket({ packetId, stage: 'done' });
      reached('done');
      return summary;
    };
    // the rows are merged: a cancellation that comes now would undo nothing, and the packet would say
    // cancelled with its rows loaded; it finishes as done (an operator's cancel reports that)
    return patched(FINISHES_ONCE_MERGED) ? await CancellationScope.nonCancellable(finish) : await finish();
  } catch (error) {
    if (isCancellation(error)) {
      // an operator cancelled the ingest: the packet says so, even though this workflow is being cancelled
      progress.error = 'cancelled by an operator';
      await CancellationScope.nonCancellable(() =>
        finishPacket({ packetId, stage: 'cancelled', error: progress.error! }),
      );
      reached('cancelled');
      throw error;
    }
    const failure =
      error instanceof ActivityFailure && error.cause instanceof ApplicationFailure
        ? error.cause
        : error instanceof ApplicationFailure
          ? error
          : undefined;
    const reason = failure?.message ?? (error instanceof Error ? error.message : String(error));
    progress.error = reason;
    if (failure?.type && HOLDING_PROBLEMS.includes(failure.type)) {
      // not a failure: the packet waits for an operator to accept its shape or text and release it
      const summary = await finishPacket({ packetId, stage: 'held', error: reason });
      reached('held');
      return summary;
    }
    await finishPacket({ packetId, stage: 'failed', error: reason });
    reached('failed');
    throw ApplicationFailure.nonRetryable(reason, failure?.type ?? 'IngestFailed');
  }
}

function describe(p: IngestProgress): string {
  return [
    `**${p.stage}** ${p.fileName ?? ''}`,
    `rows read ${p.rowsRead}, loaded ${p.rowsLoaded}, rejected ${p.rowsRejected}, duplicates ${p.rowsDuplicate}`,
    ...(p.error ? [`error: ${p.error}`] : []),
  ].join('\n');
}
