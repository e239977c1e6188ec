// Test helpers for ingest sources: a source row for a test company, its packets, and a discovery run's outcome.
import { randomUUID } from 'node:crypto';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { WorkflowFailedError, type Client, type ScheduleHandle } from '@temporalio/client';
import type { App } from '../../lib/app';
import type { PacketRow } from '../../lib/packets';
import { startDiscovery } from '../../lib/sources/run-discovery';
import { saveSource, type StoredSource } from '../../lib/sources/store';
import type { IngestSourceInput } from '../../schemas/ingest-source';
import { discoverSource } from '../../workflows';
import type { DiscoveryTotals } from '../../workflows/discover-source';
import { eventually } from './harness';

export async function addTestSource(
  app: App,
  companyAlias: string,
  input: Omit<IngestSourceInput, 'name'> & { name?: string },
): Promise<StoredSource> {
  const { source } = await saveSource(
    app.sql,
    companyAlias,
    { name: `${input.kind}-${randomUUID().slice(0, 8)}`, ...input } as IngestSourceInput,
    'test',
  );
  return source;
}

export async function packetsOf(app: App, source: StoredSource): Promise<PacketRow[]> {
  return app.sql<PacketRow[]>`select * from data_packets where source_id = ${source.id} order by id`;
}

/** Keys herald stored under a prefix of its bucket. */
export async function keysUnder(app: App, prefix: string): Promise<string[]> {
  const page = await app.s3.send(new ListObjectsV2Command({ Bucket: app.bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!);
}

export interface DiscoveryOutcome {
  workflowId: string;
  /** the run a schedule's trigger started: runs triggered within one second share their workflow id */
  runId?: string;
  totals?: DiscoveryTotals;
  /** the failure's message and Temporal type when the discovery failed */
  error?: { message: string; type?: string; totals?: DiscoveryTotals };
}

async function outcomeOf(client: Client, workflowId: string, runId?: string): Promise<DiscoveryOutcome> {
  try {
    return {
      workflowId,
      runId,
      totals: (await client.workflow.getHandle(workflowId, runId).result()) as DiscoveryTotals,
    };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause as Error & { type?: string; details?: unknown[] };
    return {
      workflowId,
      runId,
      error: {
        message: cause.message,
        type: cause.type,
        totals: cause.details?.[0] as DiscoveryTotals | undefined,
      },
    };
  }
}

/** Runs discovery as `herald sources run` does, on the test's queue, and waits for it. */
export async function runDiscovery(
  app: App,
  source: StoredSource,
  taskQueue: string,
): Promise<DiscoveryOutcome> {
  const client = await app.client();
  const handle = await startDiscovery(client, source, { taskQueue });
  return outcomeOf(client, handle.workflowId, handle.firstExecutionRunId);
}

/**
 * Runs discovery with one listing page per run, as a long listing continues as new, and waits until
 * visibility shows every run closed: the totals, the runs' statuses and the first run's id.
 */
export async function discoverOnePagePerRun(app: App, source: StoredSource, taskQueue: string) {
  const client = await app.client();
  const handle = await client.workflow.start(discoverSource, {
    taskQueue,
    workflowId: `discover/${source.uuid}/paged`,
    args: [{ sourceUuid: source.uuid, pagesPerRun: 1 }],
  });
  const totals = await handle.result();
  const runs = await eventually(async () => {
    const found: string[] = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` }))
      found.push(run.status.name);
    // every run listed is not enough: the last may still show RUNNING until its close is indexed
    return found.length > 1 && !found.includes('RUNNING') ? found.sort() : undefined;
  }, 30_000);
  return { totals, runs, workflowId: handle.workflowId, firstRunId: handle.firstExecutionRunId };
}

/** Triggers the schedule now and waits for the discovery run it starts. */
export async function triggerAndWait(app: App, schedule: ScheduleHandle): Promise<DiscoveryOutcome> {
  const client = await app.client();
  const before = (await schedule.describe()).info.recentActions.length;
  await schedule.trigger();
  const started = await eventually(async () => {
    const actions = (await schedule.describe()).info.recentActions;
    return actions.length > before ? actions.at(-1)!.action.workflow : undefined;
  }, 30_000);
  return outcomeOf(client, started.workflowId, started.firstExecutionRunId);
}

/** Waits until every packet of the source has finished its ingest. */
export async function ingestsFinished(app: App, source: StoredSource, count: number): Promise<PacketRow[]> {
  return eventually(async () => {
    const packets = await packetsOf(app, source);
    return packets.length === count && packets.every((p) => ['done', 'failed'].includes(p.stage))
      ? packets
      : undefined;
  }, 90_000);
}

/** A workflow run's history (the latest run without a run id) as text with its payloads decoded, to check what it carries. */
export async function historyText(app: App, workflowId: string, runId?: string): Promise<string> {
  const history = JSON.stringify(
    await (await app.client()).workflow.getHandle(workflowId, runId).fetchHistory(),
  );
  return history.replace(/"data":"([A-Za-z0-9+/=]*)"/g, (_, b64: string) =>
    JSON.stringify(Buffer.from(b64, 'base64').toString('utf8')),
  );
}

/** The attempt number of each activity a workflow ran, by type: a failure not retried shows attempt 1. */
export async function activityAttempts(app: App, workflowId: string): Promise<Record<string, number>> {
  const history = await (await app.client()).workflow.getHandle(workflowId).fetchHistory();
  const types = new Map<string, string>();
  const attempts: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) types.set(String(e.eventId), scheduled.activityType!.name!);
    const started = e.activityTaskStartedEventAttributes;
    if (started) attempts[types.get(String(started.scheduledEventId))!] = Number(started.attempt);
  }
  return attempts;
}
