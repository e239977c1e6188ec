// Activities of a packet's ingest: prepare, stage rows (streamed, heartbeating), merge, count regions, finish.
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { IngestProblem, problemFromDatabase } from '../lib/ingest/errors';
import {
  mergeAlongsideStaging,
  mergePacketRows as mergeRows,
  type MergeAlongside,
  type MergeResult,
  type RegionCount,
  type StagingLost,
} from '../lib/ingest/merge';
import { loadPacketContext, loadPacketRow } from '../lib/ingest/packet-context';
import { writeRejectsReport } from '../lib/ingest/rejects-report';
import { stageRows, type StageProgress } from '../lib/ingest/stage-rows';
import { readPacketSummary, type PacketSummary } from '../lib/ingest/summary';
import { recordLoadWarnings } from '../lib/ingest/load-warnings';
import { recordPacketEvent, setPacketStage } from '../lib/packets';
import type { ActivityDeps } from './deps';
import type { Sql } from '../lib/db';

export type { PacketSummary } from '../lib/ingest/summary';
export type { PacketStage } from '../lib/packets';

export interface PacketInput {
  /** the packet's uuid */
  packetId: string;
}

export interface PreparedPacket {
  companyAlias: string;
  fileName: string;
  loadMap: string;
  sizeBytes: number;
}

export interface StagedCounts {
  rowsRead: number;
  rowsStaged: number;
  rowsRejected: number;
  bytes: number;
  resumedFromRow: number;
  rejectsKey: string | null;
}

export interface RegionCounts {
  regions: Record<string, number>;
  unassigned: number;
}

const HEARTBEAT_EVERY_MS = 5_000;

/** Turns the problems a person must fix into non-retryable failures named by their kind. */
async function permanent<T>(during: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (caught) {
    const error = problemFromDatabase(caught, during) ?? caught;
    if (error instanceof IngestProblem) {
      throw ApplicationFailure.create({
        message: error.message,
        type: error.kind,
        nonRetryable: true,
        details: [error.details],
      });
    }
    throw error;
  }
}

/** Heartbeats while `fn` runs (a long SQL statement has no progress to report, but the worker is alive). */
async function keepAlive<T>(
  details: () => unknown,
  fn: (beat: (progress: unknown) => void) => Promise<T>,
): Promise<T> {
  const context = Context.current();
  let lastBeat = Date.now();
  const beat = (progress: unknown): void => {
    lastBeat = Date.now();
    context.heartbeat(progress);
  };
  // only when `fn` has been quiet: the server passes on one heartbeat per throttle interval, and it
  // should be the latest real progress, not a repeat of old details
  const timer = setInterval(() => {
    if (Date.now() - lastBeat >= HEARTBEAT_EVERY_MS) beat(details());
  }, 1000);
  try {
    return await fn(beat);
  } finally {
    clearInterval(timer);
  }
}

function workflowId(): string | null {
  return Context.current().info.workflowExecution?.workflowId ?? null;
}

/** Packet events name the workflow that moved the packet, which an operator can open in the UI. */
function actor(): string {
  return `workflow:${workflowId() ?? 'none'}`;
}

/**
 * What a staging that merged beside itself recorded, when `run` (a workflow run) did it and its merge
 * committed: a retried attempt returns it rather than staging and merging the file a second time.
 */
async function stagedAndMergedBy(
  sql: Sql,
  packetId: number,
  run: string | null,
): Promise<StagedCounts | undefined> {
  if (run === null) return undefined;
  const [row] = await sql<{ merged: { run: string; counts: StagedCounts } | null }[]>`
    select metadata -> 'mergedWithStaging' as merged from data_packets
    where id = ${packetId} and merged_at is not null`;
  return row?.merged?.run === run ? row.merged.counts : undefined;
}

export function createIngestActivities({ sql, s3, bucket, log, ingestLimits }: ActivityDeps) {
  /** Publishes where the packet's contacts went: counts by region, and why some are unassigned. */
  async function countPacketRegions(input: PacketInput): Promise<RegionCounts> {
    const packet = await loadPacketRow(sql, input.packetId);
    const [stored] = await sql<{ merge: MergeResult | null }[]>`
      select metadata -> 'merge' as merge from data_packets where id = ${packet.id}`;
    const regions: RegionCount[] = stored?.merge?.regions ?? [];
    const counts: Record<string, number> = {};
    for (const r of regions) counts[r.region] = (counts[r.region] ?? 0) + r.contacts;
    const unassigned = regions.filter((r) => r.region === 'unassigned');
    await setPacketStage(sql, packet.id, 'regions_counted', actor(), {
      details: {
        regions: counts,
        unassignedReasons: unassigned.map((r) => ({ reason: r.reason, contacts: r.contacts })),
      },
    });
    return { regions: counts, unassigned: counts.unassigned ?? 0 };
  }

  return {
    /** Checks the company, load map and file before any row is read; records the map the packet uses. */
    async preparePacket(input: PacketInput): Promise<PreparedPacket> {
      return permanent('while preparing it', async () => {
        const context = await loadPacketContext(sql, input.packetId);
        const { packet } = context;
        let size: number | undefined;
        let etag: string | undefined;
        try {
          const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: packet.object_key }));
          size = head.ContentLength;
          etag = head.ETag;
        } catch (error) {
          const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          if (status === 404) {
            throw new IngestProblem(
              'MissingObject',
              `the packet's file s3://${bucket}/${packet.object_key} does not exist; upload the file again`,
            );
          }
          throw error;
        }
        await sql`
          update data_packets
          set load_map_id = ${context.loadMap.id}, workflow_id = coalesce(${workflowId()}, workflow_id),
              size_bytes = coalesce(size_bytes, ${size ?? null}), etag = coalesce(etag, ${etag ?? null})
          where id = ${packet.id}`;
        const loadMap = `${context.loadMap.name} v${context.loadMap.version}`;
        await setPacketStage(sql, packet.id, 'fetched', actor(), {
          details: { loadMap, sizeBytes: size ?? null },
        });
        return {
          companyAlias: context.company.alias,
          fileName: packet.original_name ?? packet.object_key.split('/').pop()!,
          loadMap,
          sizeBytes: size ?? 0,
        };
      });
    },

    /**
     * Streams the file from S3 through parse, map and clean into staging rows and rejects, committing
     * chunk by chunk; each commit is a heartbeat, and a retry resumes after the last one it reported.
     */
    async stagePacketRows(input: PacketInput): Promise<StagedCounts> {
      return permanent('while staging its rows', async () => {
        const activity = Context.current();
        const context = await loadPacketContext(sql, input.packetId);
        const run = activity.info.workflowExecution?.runId ?? null;
        // an earlier attempt of this run staged and merged the packet, and its worker was lost after the commit
        const earlier = await stagedAndMergedBy(sql, context.packet.id, run);
        if (earlier) return earlier;
        const resume = activity.info.heartbeatDetails as StageProgress | undefined;
        let last: StageProgress = resume ?? { row: 0, staged: 0, rejected: 0, bytes: 0 };
        const object = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: context.packet.object_key }),
          {
            abortSignal: activity.cancellationSignal,
          },
        );
        // the merge runs beside staging when it can, on the other core, and commits after it
        let merge: MergeAlongside | undefined;
        try {
          return await keepAlive(
            () => last,
            async (beat) => {
              const result = await stageRows({
                sql,
                context,
                input: object.Body as Readable,
                resume,
                limits: ingestLimits,
                onHeader: async (header) => {
                  const opened = await mergeAlongsideStaging(sql, context, header, {
                    signal: activity.cancellationSignal,
                  });
                  if (opened === 'busy')
                    log.info(
                      { packetId: input.packetId },
                      'another packet of the company is merging: merging after staging',
                    );
                  else merge = opened;
                },
                onProgress: (progress) => {
                  last = progress;
                  beat(progress);
                  // a cancelled ingest stops at the next committed chunk; a retry would resume from it
                  activity.cancellationSignal.throwIfAborted();
                  merge?.through(progress.row);
                },
              });
              const rejectsKey = await writeRejectsReport(sql, s3, bucket, {
                id: context.packet.id,
                uuid: context.packet.uuid,
                companyAlias: context.company.alias,
              });
              // the header read is kept: the merge tells a blank cell from a column the file lacks by it
              await sql`
                update data_packets set metadata = metadata || ${sql.json({ header: result.header })}
                where id = ${context.packet.id}`;
              const counts: StagedCounts = {
                rowsRead: result.rowsRead,
                rowsStaged: result.staged,
                rowsRejected: result.rejected,
                bytes: result.bytes,
                resumedFromRow: result.resumedFrom,
                rejectsKey,
              };
              await recordLoadWarnings(sql, context, result, actor());
              await setPacketStage(sql, context.packet.id, 'parsed', actor(), { details: { ...counts } });
              log.info({ packetId: input.packetId, ...counts }, 'packet rows staged');
              if (merge) {
                const merged = await merge.finish({ mergedWithStaging: { run, counts } });
                // nothing committed: the merge step after staging finds the same and stages again
                if ('stagingLost' in merged)
                  log.warn(
                    { packetId: input.packetId, ...merged.stagingLost },
                    'staged rows lost before the merge',
                  );
              }
              return counts;
            },
          );
        } catch (error) {
          (object.Body as Readable | undefined)?.destroy();
          await merge?.abandon();
          if (error instanceof IngestProblem)
            await sql`delete from packet_rows where packet_id = ${context.packet.id}`;
          // a file without rows: the same empty bytes uploaded again later are a new file (lib/sources/upload-file)
          if (
            error instanceof IngestProblem &&
            (error.kind === 'NoRows' || error.details.code === 'empty-file')
          )
            await sql`
              update data_packets set metadata = metadata || ${sql.json({ empty: true })}
              where id = ${context.packet.id}`;
          throw error;
        }
      });
    },

    /**
     * Merges the staged rows into contacts and appointments in one transaction; merges nothing and says
     * so when the staging rows it finds are not those staging committed (the workflow stages again).
     */
    async mergePacketRows(input: PacketInput): Promise<MergeResult | StagingLost> {
      return permanent('while merging its rows', async () => {
        const context = await loadPacketContext(sql, input.packetId);
        // the heartbeats also bring a cancellation, which stops the merge before it commits
        const result = await keepAlive(
          () => ({ merging: true }),
          () => mergeRows(sql, context, { signal: Context.current().cancellationSignal }),
        );
        if ('stagingLost' in result) {
          await recordPacketEvent(
            sql,
            context.packet,
            'parsed',
            'staging rows lost: staging again',
            actor(),
            {
              ...result.stagingLost,
            },
          );
          log.warn({ packetId: input.packetId, ...result.stagingLost }, 'packet staging rows lost');
          return result;
        }
        await setPacketStage(sql, context.packet.id, 'loaded', actor(), {
          details: { ...result, regions: undefined },
        });
        return result;
      });
    },

    countPacketRegions,
    /** The name ingests started before the rename schedule this step by: their histories replay with it. */
    shardPacketContacts: countPacketRegions,

    /**
     * Kept for ingests an earlier release started: their workflow still calls it after counting regions.
     * Reminder messages are made by the reminder run when their steps fall due (lib/messages), so this
     * only records the stage those ingests pass through.
     */
    async planPacketMessages(input: PacketInput): Promise<void> {
      const packet = await loadPacketRow(sql, input.packetId);
      await setPacketStage(sql, packet.id, 'planned', actor(), {
        details: { note: 'reminders are made by the reminder run when their steps fall due' },
      });
    },

    /** Marks the packet done, or failed (or cancelled) with the reason; any staging rows left are removed. */
    async finishPacket(
      input: PacketInput & { stage: 'done' | 'failed' | 'cancelled' | 'held'; error?: string },
    ): Promise<PacketSummary> {
      const packet = await loadPacketRow(sql, input.packetId);
      // personal data stays in staging no longer than the run: none is left, whatever the outcome
      await sql`delete from packet_rows where packet_id = ${packet.id}`;
      await setPacketStage(sql, packet.id, input.stage, actor(), { error: input.error ?? null });
      return (await readPacketSummary(sql, input.packetId))!;
    },
  };
}
