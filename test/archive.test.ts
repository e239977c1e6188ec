import { gunzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { archiveMessageBatch, selectArchiveBatch } from '../lib/archive/messages';
import { ensureArchiveSchedule } from '../lib/archive/schedule';
import { SCHEDULE_IDS, TASK_QUEUES, WORKFLOW_IDS } from '../lib/names';
import { registerPacket } from '../lib/packets';
import { archiveMessages } from '../workflows';
import { countRows, makeCompany, makeMessages, makePacketEvents } from './support/archive-fixtures';
import { herald } from './support/cli';
import { openTestApp, startTestWorker, type TestWorker } from './support/harness';

let app: App;
let worker: TestWorker;

beforeAll(async () => {
  app = await openTestApp();
  // the CLI starts its workflow on the pipeline queue, as in production
  worker = await startTestWorker(app, { taskQueue: TASK_QUEUES.pipeline });
});
afterAll(async () => {
  await worker?.stop();
  await app?.close();
});

const NOW = '2025-06-30T03:00:00.000Z';
const OLD = '2025-05-01T10:00:00.000Z'; // 60 days before NOW: past a 30-day retention
const OLD_NEXT_DAY = '2025-05-02T23:30:00.000Z';
const RECENT = '2025-06-20T10:00:00.000Z';

async function listKeys(prefix: string): Promise<string[]> {
  const listed = await app.s3.send(new ListObjectsV2Command({ Bucket: app.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

async function readNdjson(key: string): Promise<Record<string, unknown>[]> {
  const object = await app.s3.send(new GetObjectCommand({ Bucket: app.bucket, Key: key }));
  const text = gunzipSync(Buffer.from(await object.Body!.transformToByteArray())).toString('utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function runArchive(workflowKey: string, input: Parameters<typeof archiveMessages>[0]) {
  const client = await app.client();
  return client.workflow.start(archiveMessages, {
    taskQueue: worker.taskQueue,
    workflowId: WORKFLOW_IDS.archive(`test/${workflowKey}/${Date.now()}`),
    args: [input],
  });
}

describe('what the archive takes', () => {
  it('keeps a reminder while its appointment is ahead, however short the retention: the row is what keeps the step from being made again', async () => {
    const company = await makeCompany(app.sql, { retentionDays: 1 });
    const ahead = '2025-07-04T15:00:00.000Z';
    const [passed, waiting] = await makeMessages(app.sql, company.id, [
      { state: 'delivered', contactAt: OLD, appointmentAt: OLD_NEXT_DAY },
      { state: 'delivered', contactAt: OLD, appointmentAt: ahead },
    ]);
    const cutoff = '2025-06-29T03:00:00.000Z';
    expect(await selectArchiveBatch(app.sql, { companyId: company.id, cutoff, limit: 10 })).toEqual([passed]);
    const later = '2025-07-05T03:00:00.000Z';
    expect(await selectArchiveBatch(app.sql, { companyId: company.id, cutoff: later, limit: 10 })).toEqual([
      passed,
      waiting,
    ]);
  });
});

describe('the archive workflow', () => {
  it('moves final messages past retention to history, exports them per day to S3, purges old logs; a second run changes nothing', async () => {
    const company = await makeCompany(app.sql, { retentionDays: 30 });
    const archived = await makeMessages(app.sql, company.id, [
      { state: 'delivered', contactAt: OLD, updates: 2 },
      { state: 'failed', contactAt: OLD },
      { state: 'cancelled', contactAt: OLD_NEXT_DAY, updates: 1 },
    ]);
    const kept = await makeMessages(app.sql, company.id, [
      { state: 'sent', contactAt: OLD, updates: 1 }, // not final: waits for its delivery report
      { state: 'delivered', contactAt: RECENT }, // within retention
      { state: 'delivered', contactAt: OLD, updatedAt: RECENT }, // a late callback touched it
    ]);
    await makePacketEvents(app.sql, company.id, [OLD, RECENT]);
    await app.sql`insert into audit_log (table_name, row_id, company_id, actor, action, at)
                  values ('companies', ${company.id}, ${company.id}, 'test', 'update', ${OLD})`;
    const [endpoint] = await app.sql<{ id: number }[]>`
      insert into webhook_endpoints (company_id, url, secret_env) values (${company.id}, 'https://example.com/h', 'UNUSED_SECRET') returning id`;
    for (const [status, at] of [
      ['delivered', OLD],
      ['failed', OLD],
      ['delivering', OLD],
      ['delivered', RECENT],
    ] as const) {
      await app.sql`insert into webhook_deliveries (endpoint_id, company_id, event, event_key, payload, status, created_at)
                    values (${endpoint!.id}, ${company.id}, 'webhook.test', ${status + at}, '{}', ${status}, ${at})`;
    }
    const before = await countRows(app.sql, company.id);

    const first = await runArchive('first', {
      now: NOW,
      companyAlias: company.alias,
      batchSize: 2,
      exportHistories: false,
    });
    const totals = await first.result();
    // the delivery still being retried and the recent one stay
    expect(totals).toMatchObject({
      companies: 1,
      messages: 3,
      updates: 3,
      packetEvents: 1,
      auditRows: 1,
      webhookDeliveries: 2,
      batches: 2,
    });

    const after = await countRows(app.sql, company.id);
    expect(after).toEqual({
      live: 3,
      history: 3,
      liveUpdates: 1,
      historyUpdates: 3,
      events: before.events - 1,
      audit: before.audit - 1,
    });
    const live = await app.sql<
      { id: number }[]
    >`select id from messages where company_id = ${company.id} order by id`;
    expect(live.map((r) => r.id)).toEqual(kept);

    // batches of 2 ordered by contact time: [OLD, OLD] then [OLD_NEXT_DAY], one object per day and batch
    const keys = await listKeys(`archive/${company.alias}/`);
    const pad = (n: number) => String(n).padStart(12, '0');
    expect(keys).toEqual([
      `archive/${company.alias}/2025/05/01/${pad(archived[0]!)}-${pad(archived[1]!)}.ndjson.gz`,
      `archive/${company.alias}/2025/05/02/${pad(archived[2]!)}-${pad(archived[2]!)}.ndjson.gz`,
    ]);
    const day1 = await readNdjson(keys[0]!);
    expect(day1.map((m) => m.id)).toEqual([archived[0], archived[1]]);
    expect(day1[0]).toMatchObject({
      company_id: company.id,
      state: 'delivered',
      channel: 'sms',
      data: { note: 'fixture' },
    });
    expect((day1[0]!.updates as unknown[]).length).toBe(2);
    expect((day1[1]!.updates as unknown[]).length).toBe(0);
    const day2 = await readNdjson(keys[1]!);
    expect(day2).toHaveLength(1);
    expect(day2[0]).toMatchObject({ id: archived[2], state: 'cancelled' });

    // history rows are the same rows, with when they were archived
    const [history] = await app.sql<{ state: string; archived_at: Date }[]>`
      select state, archived_at from messages_history where id = ${archived[0]!}`;
    expect(history!.state).toBe('delivered');

    const second = await (
      await runArchive('again', {
        now: NOW,
        companyAlias: company.alias,
        batchSize: 2,
        exportHistories: false,
      })
    ).result();
    expect(second).toMatchObject({
      messages: 0,
      updates: 0,
      objects: 0,
      packetEvents: 0,
      auditRows: 0,
      webhookDeliveries: 0,
      batches: 0,
    });
    expect(await countRows(app.sql, company.id)).toEqual(after);
    expect(await listKeys(`archive/${company.alias}/`)).toEqual(keys);
  });

  it('continues as new between batches on a long run, carrying its totals', async () => {
    const company = await makeCompany(app.sql, { retentionDays: 30 });
    await makeMessages(
      app.sql,
      company.id,
      Array.from({ length: 5 }, () => ({ state: 'delivered', contactAt: OLD })),
    );
    const handle = await runArchive('long', {
      now: NOW,
      companyAlias: company.alias,
      batchSize: 2,
      batchesPerRun: 1,
      exportHistories: false,
    });
    const totals = await handle.result();
    expect(totals).toMatchObject({ messages: 5, batches: 3, companies: 1 });
    const firstRun = await (
      await app.client()
    ).workflow
      .getHandle(handle.workflowId, handle.firstExecutionRunId)
      .fetchHistory();
    expect(firstRun.events?.some((e) => e.workflowExecutionContinuedAsNewEventAttributes)).toBe(true);
    expect((await countRows(app.sql, company.id)).history).toBe(5);
  });

  it('rolls a batch back when history does not receive every row', async () => {
    const company = await makeCompany(app.sql, { retentionDays: 30 });
    const ids = await makeMessages(app.sql, company.id, [
      { state: 'delivered', contactAt: OLD, updates: 1 },
      { state: 'expired', contactAt: OLD },
    ]);
    // a trigger that silently drops one company's history rows stands for any lost insert
    await app.sql.unsafe(`
      create or replace function test_drop_history() returns trigger language plpgsql as $$
      begin if new.company_id = ${company.id} then return null; end if; return new; end $$;
      create trigger test_drop_history before insert on messages_history for each row execute function test_drop_history();`);
    try {
      const error = await archiveMessageBatch(
        app.sql,
        { companyId: company.id, messageIds: ids },
        async () => {},
      ).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(
        /archiving messages: 0 rows copied to history, 2 deleted, 2 expected; rolled back/,
      );
    } finally {
      await app.sql.unsafe(
        'drop trigger test_drop_history on messages_history; drop function test_drop_history()',
      );
    }
    expect(await countRows(app.sql, company.id)).toMatchObject({
      live: 2,
      history: 0,
      liveUpdates: 1,
      historyUpdates: 0,
    });
  });

  it('exports finished workflow histories to S3 once each, readable by the SDK', async () => {
    const company = await makeCompany(app.sql, { retentionDays: 30 });
    const earlier = await runArchive('earlier', {
      now: NOW,
      companyAlias: company.alias,
      exportHistories: false,
    });
    await earlier.result();
    const run = await runArchive('histories', { now: NOW, companyAlias: company.alias });
    const totals = await run.result();
    expect(totals.histories).toBeGreaterThanOrEqual(1);
    const key = `histories/archiveMessages/${earlier.workflowId}/${earlier.firstExecutionRunId}.json`;
    const object = await app.s3.send(new GetObjectCommand({ Bucket: app.bucket, Key: key }));
    const history = historyFromJSON(JSON.parse(await object.Body!.transformToString()));
    expect(history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name).toBe(
      'archiveMessages',
    );
    const [row] = await app.sql<{ events: number }[]>`
      select events from workflow_history_exports where workflow_id = ${earlier.workflowId}`;
    expect(row!.events).toBe(history.events!.length);

    // the next run exports only what finished since (at least the run above), never the same run twice
    const again = await (
      await runArchive('histories-again', { now: NOW, companyAlias: company.alias })
    ).result();
    const [{ n } = { n: 0 }] = await app.sql<{ n: number }[]>`
      select count(*)::int as n from workflow_history_exports where workflow_id = ${earlier.workflowId}`;
    expect(n).toBe(1);
    expect(again.histories).toBeGreaterThanOrEqual(1);
  });
});

describe('the nightly schedule', () => {
  it('is created once and updated when the cron changes', async () => {
    const client = await app.client();
    const created = await ensureArchiveSchedule(client, { cron: '0 3 * * *', batchSize: 500 });
    const same = await ensureArchiveSchedule(client, { cron: '0 3 * * *', batchSize: 500 });
    const changed = await ensureArchiveSchedule(client, { cron: '30 2 * * *', batchSize: 500 });
    try {
      expect(created).toMatchObject({ scheduleId: SCHEDULE_IDS.archive, cron: '0 3 * * *' });
      expect(same).toMatchObject({ created: false, updated: false });
      expect(changed).toMatchObject({ created: false, updated: true, cron: '30 2 * * *' });
      expect(new Date(changed.nextRuns[0]!).getUTCHours()).toBe(2);
      expect(new Date(changed.nextRuns[0]!).getUTCMinutes()).toBe(30);
    } finally {
      await client.schedule.getHandle(SCHEDULE_IDS.archive).delete();
    }
  });
});

describe("the archive's packet retention", () => {
  /** A finished (or still running) packet of the company with its raw file, rejects report and rejected rows. */
  async function packetWithFiles(
    companyId: number,
    alias: string,
    opts: { finishedAt: string | null; stage: string; objectKey?: string },
  ) {
    const objectKey = opts.objectKey ?? `raw/${alias}/retention/${randomUUID()}.csv`;
    const { packet } = await registerPacket(
      app.sql,
      { companyId, dedupeKey: `retention:${randomUUID()}`, objectKey, originalName: 'roster.csv' },
      'test',
    );
    const rejectsKey = `rejects/${alias}/${packet.uuid}.csv`;
    await app.s3.send(
      new PutObjectCommand({ Bucket: app.bucket, Key: objectKey, Body: 'Name\r\nAnn Lee\r\n' }),
    );
    await app.s3.send(new PutObjectCommand({ Bucket: app.bucket, Key: rejectsKey, Body: 'row,column\r\n' }));
    await app.sql`
      insert into packet_rejects (packet_id, company_id, row_number, column_name, raw_value, reason, raw_row)
      select ${packet.id}, ${companyId}, n, 'Phone', '555-12', '"555-12" is not a phone number', '{"Name": "Ann Lee"}'
      from generate_series(2, 4) n`;
    await app.sql`
      update data_packets set stage = ${opts.stage}, rejects_key = ${rejectsKey}, rows_rejected = 3,
        created_at = coalesce(${opts.finishedAt}::timestamptz, created_at), finished_at = ${opts.finishedAt}::timestamptz
      where id = ${packet.id}`;
    return { id: packet.id, uuid: packet.uuid, objectKey, rejectsKey };
  }

  async function state(p: { id: number; objectKey: string; rejectsKey: string }) {
    const exists = (key: string) =>
      app.s3.send(new HeadObjectCommand({ Bucket: app.bucket, Key: key })).then(
        () => true,
        () => false,
      );
    const [row] = await app.sql<
      { purged: boolean; rejects_key: string | null; rejects: number; rows_rejected: number }[]
    >`
      select files_purged_at is not null as purged, rejects_key, rows_rejected,
             (select count(*)::int from packet_rejects where packet_id = ${p.id}) as rejects
      from data_packets where id = ${p.id}`;
    return { ...row!, file: await exists(p.objectKey), report: await exists(p.rejectsKey) };
  }

  it("deletes finished packets' raw files, reports and rejected rows past the company's packet retention", async () => {
    const company = await makeCompany(app.sql, { retentionDays: 365 });
    await app.sql`update companies set packet_retention_days = 30 where id = ${company.id}`;
    const old = await packetWithFiles(company.id, company.alias, { finishedAt: OLD, stage: 'done' });
    const oldFailed = await packetWithFiles(company.id, company.alias, { finishedAt: OLD, stage: 'failed' });
    const recent = await packetWithFiles(company.id, company.alias, { finishedAt: RECENT, stage: 'done' });
    const running = await packetWithFiles(company.id, company.alias, { finishedAt: null, stage: 'parsed' });
    // the same object used in place by an old packet and by the newer one that replaced its content
    const replaced = await packetWithFiles(company.id, company.alias, { finishedAt: OLD, stage: 'done' });
    const replacement = await packetWithFiles(company.id, company.alias, {
      finishedAt: RECENT,
      stage: 'done',
      objectKey: replaced.objectKey,
    });

    const handle = await runArchive('packet-retention', {
      now: NOW,
      companyAlias: company.alias,
      exportHistories: false,
    });
    const totals = await handle.result();
    expect(totals).toMatchObject({ packetFiles: 3, rejectedRows: 9 });
    const gone = {
      purged: true,
      rejects_key: null,
      rejects: 0,
      rows_rejected: 3,
      file: false,
      report: false,
    };
    expect(await state(old)).toEqual(gone);
    expect(await state(oldFailed)).toEqual(gone);
    expect(await state(replaced)).toEqual({ ...gone, file: true });
    const kept = (p: { rejectsKey: string }) => ({
      purged: false,
      rejects_key: p.rejectsKey,
      rejects: 3,
      rows_rejected: 3,
      file: true,
      report: true,
    });
    expect(await state(recent)).toEqual(kept(recent));
    expect(await state(running)).toEqual(kept(running));
    expect(await state(replacement)).toEqual(kept(replacement));

    // a second night changes nothing; replaying the purged packet from its file is refused
    const again = await (
      await runArchive('packet-retention-again', {
        now: NOW,
        companyAlias: company.alias,
        exportHistories: false,
      })
    ).result();
    expect(again).toMatchObject({ packetFiles: 0, rejectedRows: 0 });
    const replay = await herald(['packets', 'replay', old.uuid]);
    expect(replay.code).toBe(2);
    expect(replay.stderr).toMatch(/file was deleted on \d{4}-\d\d-\d\d, past its company's packet retention/);
  });
});

describe('herald archive', () => {
  it('run --now --company --json prints the counts; text output names them', async () => {
    const company = await makeCompany(app.sql, { retentionDays: 30 });
    await makeMessages(app.sql, company.id, [
      { state: 'delivered', contactAt: OLD, updates: 1 },
      { state: 'skipped', contactAt: OLD },
    ]);
    const json = await herald([
      'archive',
      'run',
      '--now',
      NOW,
      '--company',
      company.alias,
      '--no-histories',
      '--json',
    ]);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      companies: 1,
      messages: 2,
      updates: 1,
      objects: 1,
      histories: 0,
    });

    const text = await herald(['archive', 'run', '--now', NOW, '--company', company.alias, '--no-histories']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('messages       0 moved to messages_history');
  });

  it('exits 2 on a bad --now or an unknown company is a failure (1)', async () => {
    const bad = await herald(['archive', 'run', '--now', 'yesterday-ish']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--now must be an ISO date');
    const unknown = await herald(['archive', 'run', '--company', 'no-such-company', '--no-histories']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no company has the alias "no-such-company"');
  });
});
