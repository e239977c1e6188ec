// A scenario's file: a company with the EHR map, a file of known good and bad rows in S3, its ingest on
// the scenario's queue by worker processes writing to a temporary directory of the run's own, and the
// counts measured afterwards in the tables and in that directory.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import { startPacketIngest } from '../../../lib/ingest/start-ingest';
import { readPacketSummary, type PacketSummary } from '../../../lib/ingest/summary';
import type { PacketRow } from '../../../lib/packets';
import { createS3Client } from '../../../lib/s3';
import type { ingestPacket } from '../../../workflows/ingest-packet';
import {
  createTestCompany,
  csv,
  ehrRows,
  EHR_HEADER,
  putPacket,
  type TestCompany,
} from '../../support/ingest';
import type { ChaosCounts } from './counts';
import { startChaosWorker, type ChaosWorker } from './workers';
import { waitingFor } from './waits';
import type { ChaosWorld } from './world';

/** Where a scenario's ingests run: a queue of its own, and the workers' temporary directory. */
export interface IngestHost {
  queue: string;
  /** the workers' TMPDIR: whatever an ingest leaves in a temporary directory is found here */
  tmpDir: string;
}

export interface IngestRun extends IngestHost {
  company: TestCompany;
  packet: PacketRow;
  /** rows of the file the map loads, and rows it rejects (a date that is no date) */
  good: number;
  bad: number;
}

export async function createIngestHost(): Promise<IngestHost> {
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'herald-chaos-ingest-'));
  return { queue: `chaos-${randomUUID()}`, tmpDir };
}

/** An S3 client of the world's bucket, for `fn`. */
export async function withWorldS3<T>(world: ChaosWorld, fn: (s3: S3Client) => Promise<T>): Promise<T> {
  const s3 = createS3Client({
    endpoint: world.env.S3_ENDPOINT!,
    bucket: world.env.S3_BUCKET!,
    region: 'us-east-1',
    accessKeyId: world.env.S3_ACCESS_KEY_ID!,
    secretAccessKey: world.env.S3_SECRET_ACCESS_KEY!,
    forcePathStyle: true,
  });
  try {
    return await fn(s3);
  } finally {
    s3.destroy();
  }
}

/**
 * A file of `good` appointments (one contact each) and `bad` rows whose date is no date, in S3 as a
 * packet of a new company, to be ingested on `host` (a new one unless given).
 */
export async function prepareIngestRun(
  world: ChaosWorld,
  opts: { good: number; bad: number; file?: { name: string; body: Buffer }; host?: IngestHost },
): Promise<IngestRun> {
  const company = await createTestCompany({ sql: world.sql }, { prefix: 'chaos' });
  const prefix = randomUUID().slice(0, 6);
  const badRows = Array.from({ length: opts.bad }, (_, i) => [
    `${prefix}B${i}`,
    'Bad',
    'Date',
    '6175550199',
    '',
    '',
    'never',
    '10:00',
    `${prefix}-B${i}`,
  ]);
  const bad = csv(EHR_HEADER, badRows);
  const body =
    opts.file?.body ?? Buffer.from(ehrRows(opts.good, prefix) + bad.slice(bad.indexOf('\r\n') + 2));
  const { packet } = await withWorldS3(world, (s3) =>
    putPacket(
      { sql: world.sql, s3, bucket: world.env.S3_BUCKET! },
      company,
      opts.file?.name ?? 'roster.csv',
      body,
    ),
  );
  const host = opts.host ?? (await createIngestHost());
  return { company, packet, good: opts.good, bad: opts.bad, ...host };
}

/** A worker process for the run's queue, hosting no send account, writing temporary files to the run's directory. */
export function startIngestWorker(
  world: ChaosWorld,
  run: IngestHost,
  env: Record<string, string> = {},
): Promise<ChaosWorker> {
  return startChaosWorker(world, {
    queue: run.queue,
    accounts: [],
    // heartbeats reach Temporal within a second, so a worker killed while staging has progress to resume from
    env: { TMPDIR: run.tmpDir, WORKER_HEARTBEAT_THROTTLE_MS: '1000', ...env },
  });
}

export async function startIngest(
  world: ChaosWorld,
  run: IngestRun,
): Promise<WorkflowHandle<typeof ingestPacket>> {
  const start = await startPacketIngest(world.client, {
    packet: run.packet,
    companyAlias: run.company.alias,
    taskQueue: run.queue,
  });
  return start.handle;
}

/** Where in an ingest a fault lands: staging (once it has committed rows), or a statement of the merge. */
export type IngestStep = 'staging' | 'merge';

/**
 * Waits until the ingest is in `step`, so a fault lands in the middle of it: staging once it has
 * committed rows; the merge while one of its upserts runs (beside staging, or after it when the merge
 * could not run beside it). Fails when the ingest ended unseen: the fault would prove nothing.
 */
export async function whenRunning(
  world: ChaosWorld,
  run: IngestRun,
  handle: WorkflowHandle<typeof ingestPacket>,
  step: IngestStep,
  timeoutMs = 300_000,
): Promise<void> {
  waitingFor(`ingest ${handle.workflowId} to be in its ${step}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (Date.now() > deadline)
      throw new Error(`the ingest was not seen in its ${step} within ${timeoutMs} ms`);
    if (step === 'staging') {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      // 2 = PENDING_ACTIVITY_STATE_STARTED
      if (pending.some((p) => p.activityType?.name === 'stagePacketRows' && Number(p.state) === 2)) {
        const [staged] = await world.sql<{ n: number }[]>`
          select count(*)::int as n from packet_rows where packet_id = ${run.packet.id}`;
        if (staged!.n > 0) return;
      }
    } else {
      // the merge's upserts (lib/ingest/merge-rows.ts); pg_stat_activity keeps a statement's first 1 kB
      const [merging] = await world.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where state = 'active' and pid <> pg_backend_pid()
          and (query like '%insert into contacts as c %' or query like '%insert into appointments as a %')`;
      if (merging!.n > 0) return;
    }
    const [packet] = await world.sql<{ stage: string; merged: boolean }[]>`
      select stage, merged_at is not null as merged from data_packets where id = ${run.packet.id}`;
    if (['done', 'failed', 'cancelled'].includes(packet!.stage) || (step === 'merge' && packet!.merged))
      throw new Error(`the ingest went past its ${step} (${packet!.stage}) before it was seen there`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The ingest's end, failed or not; a run past `timeoutMs` is left to be counted as stuck. A worker
 * that exits by itself fails the scenario at once: the ingest would wait for a worker that never comes.
 */
export async function ingestSettled(
  handle: WorkflowHandle<typeof ingestPacket>,
  workers: ChaosWorker[],
  timeoutMs = 300_000,
): Promise<void> {
  waitingFor(`ingest ${handle.workflowId} to end`);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    handle.result().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ...workers.map((w) => w.died),
  ]).finally(() => clearTimeout(timer));
}

/** Entries of the run's temporary directory other than tsx's compile cache (the worker's own code). */
export async function leftInTmp(run: IngestHost): Promise<string[]> {
  return (await readdir(run.tmpDir)).filter((name) => !/^tsx-\d+$/.test(name));
}

/**
 * Every row read is loaded or rejected, once, in the run's company only; nothing of the file is left
 * in staging or in a temporary directory, and the packet ended `done`.
 */
export async function measureIngestRun(world: ChaosWorld, run: IngestRun): Promise<ChaosCounts> {
  const { sql } = world;
  const summary = (await readPacketSummary(sql, run.packet.uuid)) as PacketSummary;
  const [t] = await sql<
    {
      appointments: number;
      contacts: number;
      rejects: number;
      rejected_rows: number;
      staging: number;
      foreign: number;
    }[]
  >`
    select
      (select count(*)::int from appointments
        where company_id = ${run.company.id} and status <> 'cancelled') as appointments,
      (select count(*)::int from contacts where company_id = ${run.company.id}) as contacts,
      (select count(*)::int from packet_rejects where packet_id = ${run.packet.id}) as rejects,
      (select count(distinct row_number)::int from packet_rejects where packet_id = ${run.packet.id})
        as rejected_rows,
      (select count(*)::int from packet_rows where packet_id = ${run.packet.id}) as staging,
      (select count(*)::int from appointments
        where last_packet_id = ${run.packet.id} and company_id <> ${run.company.id})
      + (select count(*)::int from contacts
        where last_packet_id = ${run.packet.id} and company_id <> ${run.company.id})
      + (select count(*)::int from messages m join appointments a on a.id = m.appointment_id
        where a.company_id = ${run.company.id} and m.company_id <> ${run.company.id}) as foreign`;
  const rows = t!;
  const read = summary.rowsRead;
  const accounted = summary.rowsLoaded + summary.rowsRejected + summary.rowsDuplicate;
  return {
    duplicates:
      Math.max(0, rows.appointments - run.good) +
      Math.max(0, rows.contacts - run.good) +
      (rows.rejects - rows.rejected_rows) +
      Math.max(0, rows.rejected_rows - run.bad) +
      Math.max(0, accounted - read),
    lost:
      Math.max(0, run.good - rows.appointments) +
      Math.max(0, run.bad - rows.rejected_rows) +
      Math.max(0, run.good + run.bad - read) +
      Math.max(0, read - accounted),
    wrong_tenant: rows.foreign,
    stuck: (summary.stage === 'done' ? 0 : 1) + rows.staging + (await leftInTmp(run)).length,
  };
}

export async function removeRunTmp(run: IngestHost): Promise<void> {
  await rm(run.tmpDir, { recursive: true, force: true });
}
