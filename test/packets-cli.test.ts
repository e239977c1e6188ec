import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import type { TransactionSql } from '../lib/db';
import { COMPANY_INGEST_LOCK } from '../lib/ingest/merge';
import { startPacketIngest } from '../lib/ingest/start-ingest';
import { TASK_QUEUES, WORKFLOW_IDS } from '../lib/names';
import { herald } from './support/cli';
import { eventually, openTestApp, startTestWorker, type TestWorker } from './support/harness';
import {
  addLoadMap,
  createTestCompany,
  csv,
  daysFromNow,
  EHR_HEADER,
  EHR_MAP,
  ingestFile,
  putPacket,
  type TestCompany,
} from './support/ingest';

let app: App;
let worker: TestWorker;
let company: TestCompany;
let packetId: string;

const FILE = csv(EHR_HEADER, [
  [
    'P1',
    'Ada',
    'Lovelace',
    '(617) 555-0101',
    '',
    'ada@example.com',
    daysFromNow(8),
    '09:30',
    'A1',
    'scheduled',
    'Dr Who',
    'Main',
    '02139',
    'MA',
    '',
  ],
  [
    'P2',
    'Alan',
    'Turing',
    '(617) 555-0102',
    '',
    '',
    daysFromNow(9),
    '10:00',
    'A2',
    'scheduled',
    'Dr Who',
    'Main',
    '02139',
    'MA',
    '',
  ],
  [
    'P3',
    'Grace',
    'Hopper',
    '(617) 555-0103',
    '',
    '',
    'not a date',
    '10:00',
    'A3',
    'scheduled',
    'Dr Who',
    'Main',
    '02139',
    'MA',
    '',
  ],
]);

async function counts(companyId: number) {
  const [r] = await app.sql<{ contacts: number; appointments: number; messages: number }[]>`
    select (select count(*)::int from contacts where company_id = ${companyId}) as contacts,
           (select count(*)::int from appointments where company_id = ${companyId}) as appointments,
           (select count(*)::int from messages where company_id = ${companyId}) as messages`;
  return r!;
}

async function events(id: string) {
  return app.sql<{ stage: string; event: string; actor: string; details: Record<string, unknown> }[]>`
    select e.stage, e.event, e.actor, e.details from packet_events e join data_packets p on p.id = e.packet_id
    where p.uuid = ${id} order by e.id`;
}

/** The activities a workflow scheduled, in order, from its history. */
async function activitiesOf(workflowId: string): Promise<string[]> {
  const history = await (await app.client()).workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}

/** A packet whose ingest runs on a queue no worker polls: the stuck packet an operator resets or cancels. */
async function stuckPacket(name: string): Promise<string> {
  const { packet } = await putPacket(app, company, name, FILE + `\r\n`.repeat(name.length));
  await startPacketIngest(await app.client(), {
    packet,
    companyAlias: company.alias,
    taskQueue: `nobody-polls-${packet.uuid}`,
  });
  return packet.uuid;
}

/** Holds the locks `take` takes in a transaction of its own until released: a step that needs them waits. */
async function holdLocks(take: (tx: TransactionSql) => Promise<unknown>) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let ended!: Promise<unknown>;
  const pid = await new Promise<number>((resolve, reject) => {
    ended = app.sql
      .begin(async (tx) => {
        const [self] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
        await take(tx as TransactionSql);
        resolve(self!.pid);
        await released;
      })
      .catch(reject);
  });
  /** resolves once a statement of another session waits for these locks */
  const waitedFor = () =>
    eventually(async () => {
      const [waiting] = await app.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where ${pid}::int = any(pg_blocking_pids(pid))`;
      return waiting!.n > 0 || undefined;
    });
  return { waitedFor, release: async () => (release(), await ended) };
}

beforeAll(async () => {
  app = await openTestApp();
  // replays and resets start on the pipeline queue, as in production
  // heartbeats each second: a cancellation reaches a running merge within seconds
  worker = await startTestWorker(app, { taskQueue: TASK_QUEUES.pipeline, heartbeatThrottleMs: 1000 });
  company = await createTestCompany(app, { prefix: 'ops' });
  const ingest = await ingestFile(app, worker.taskQueue, company, 'clinic-export.csv', FILE);
  expect(ingest.summary).toMatchObject({ stage: 'done', rowsLoaded: 2, rowsRejected: 1 });
  packetId = ingest.packet.uuid;
});
afterAll(async () => {
  await worker?.stop();
  await app?.close();
});

describe('herald packets', () => {
  it('list filters by company, stage and since', async () => {
    const all = await herald(['packets', 'list', '--company', company.alias, '--json']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual([
      expect.objectContaining({
        packetId,
        stage: 'done',
        rowsLoaded: 2,
        rowsRejected: 1,
        fileName: 'clinic-export.csv',
      }),
    ]);
    expect(
      JSON.parse(
        (await herald(['packets', 'list', '--company', company.alias, '--stage', 'failed', '--json'])).stdout,
      ),
    ).toEqual([]);
    expect(
      JSON.parse(
        (await herald(['packets', 'list', '--company', company.alias, '--since', '2999-01-01', '--json']))
          .stdout,
      ),
    ).toEqual([]);
    const text = await herald(['packets', 'list', '--company', company.alias, '--since', '1d']);
    expect(text.stdout).toContain(packetId);
    expect((await herald(['packets', 'list', '--stage', 'exploded'])).code).toBe(2);
  });

  it('cancel during a merge rolls the merge back: the packet ends cancelled with none of its rows loaded', async () => {
    // the company's contacts held locked by another transaction keep the merge waiting, mid-transaction
    const contacts = await holdLocks(
      (tx) => tx`select id from contacts where company_id = ${company.id} for update`,
    );
    const { packet } = await putPacket(app, company, 'merging.csv', `${FILE}\r\n\r\n\r\n`);
    try {
      await startPacketIngest(await app.client(), {
        packet,
        companyAlias: company.alias,
        taskQueue: worker.taskQueue,
      });
      await contacts.waitedFor();
      const cancel = await herald(['packets', 'cancel', packet.uuid, '--grace', '60', '--json']);
      expect(cancel.code).toBe(0);
      expect(JSON.parse(cancel.stdout)).toMatchObject({ stage: 'cancelled' });
    } finally {
      await contacts.release();
    }
    // the merge holds the packet's row until its transaction ends: this reads it once it has
    const [after] = await app.sql<{ merged_at: Date | null; stage: string; loaded: number }[]>`
      select merged_at, stage,
             (select count(*)::int from appointments where last_packet_id = ${packet.id}) as loaded
      from data_packets where id = ${packet.id} for update`;
    expect(after).toEqual({ merged_at: null, stage: 'cancelled', loaded: 0 });
  }, 120_000);

  it('cancel arriving once the merge has committed cancels nothing and says the packet finished', async () => {
    // the company's merge lock, held: the merge waits for it mid-transaction (its rows are new, so no
    // row lock of FILE's contacts would stop it)
    const merging = await holdLocks(
      (tx) => tx`select pg_advisory_xact_lock(${company.id}, ${COMPANY_INGEST_LOCK})`,
    );
    // FILE's rows under ids of their own: the packet FILE made keeps its appointments
    const { packet } = await putPacket(
      app,
      company,
      'merged.csv',
      FILE.replace(/\b([PA])([123])\b/g, '$1M$2'),
    );
    // the stage log is held too: once the merge commits, its activity waits to write the 'loaded'
    // event, before the ingest can finish
    let events: Awaited<ReturnType<typeof holdLocks>> | undefined;
    try {
      const { handle } = await startPacketIngest(await app.client(), {
        packet,
        companyAlias: company.alias,
        taskQueue: worker.taskQueue,
      });
      await merging.waitedFor();
      events = await holdLocks((tx) => tx`lock table packet_events in share mode`);
      await merging.release();
      await events.waitedFor();
      const [merged] = await app.sql<{ merged_at: Date | null }[]>`
        select merged_at from data_packets where id = ${packet.id}`;
      expect(merged!.merged_at).not.toBeNull();
      const cancelling = herald(['packets', 'cancel', packet.uuid, '--grace', '60', '--json']);
      await eventually(
        async () => (await handle.describe()).raw.workflowExtendedInfo?.cancelRequested || undefined,
      );
      await events.release();
      events = undefined;
      const cancel = await cancelling;
      expect(cancel.code).toBe(2);
      expect(cancel.stderr).toContain(
        `packet ${packet.uuid}'s rows were merged before the cancellation reached its ingest: it is done with 2 rows loaded, and nothing was cancelled`,
      );
    } finally {
      await merging.release();
      await events?.release();
    }
    const [after] = await app.sql<{ stage: string; loaded: number }[]>`
      select stage, (select count(*)::int from appointments where last_packet_id = ${packet.id}) as loaded
      from data_packets where id = ${packet.id}`;
    expect(after).toEqual({ stage: 'done', loaded: 2 });
  }, 120_000);

  it('ends quietly when the reader of its output goes away, as with | head', async () => {
    const cut = await herald(['packets', 'list', '--company', company.alias], {}, { readerGone: true });
    expect(cut.stderr).toBe('');
    expect(cut.code).toBe(0);
  });

  it('show gives the stages with times and actors, the counts, the reject reasons and the workflow link', async () => {
    const shown = await herald(['packets', 'show', packetId, '--json']);
    expect(shown.code).toBe(0);
    const detail = JSON.parse(shown.stdout);
    expect(detail.events.map((e: { stage: string }) => e.stage)).toEqual([
      'received',
      'fetched',
      'parsed',
      'loaded',
      'regions_counted',
      'done',
    ]);
    // two appointments, the default plan's three steps each, none due yet: computed, not stored
    expect(detail.reminders).toEqual({ appointments: 2, sent: 0, pending: 0, toCome: 6 });
    expect(await counts(company.id)).toMatchObject({ messages: 0 });
    expect(detail.rejectReasons).toEqual([
      expect.objectContaining({ column: 'Appt Date', rows: 1, firstRow: 4 }),
    ]);
    expect(detail.workflowUrl).toContain(encodeURIComponent(WORKFLOW_IDS.ingestPacket(packetId)));
    expect(detail.running).toBe(false);
    const text = await herald(['packets', 'show', packetId]);
    expect(text.stdout).toMatch(/stages\n\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+received\s+packet registered/);
    expect(text.stdout).toContain(
      'reminders   6 for its 2 appointments: 0 sent, 0 waiting to be sent, 6 still to fall due (computed from the plan now)',
    );
    expect((await herald(['packets', 'show', 'not-a-packet'])).code).toBe(2);
  });

  it('rejects --out writes the rejected rows as CSV and records who took them', async () => {
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), 'herald-rejects-')), 'rejects.csv');
    const run = await herald(['packets', 'rejects', packetId, '--out', out]);
    expect(run.code).toBe(0);
    const lines = (await readFile(out, 'utf8')).trim().split(/\r?\n/);
    expect(lines[0]).toBe('row,column,value,reason');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^"4","Appt Date","not a date",/);
    expect((await events(packetId)).at(-1)).toMatchObject({
      event: 'rejects exported',
      actor: 'test',
      details: { to: out, rows: 1 },
    });
  });

  it('replay re-runs from the raw file without duplicating anything, from merged rows, and through another load map named as upload and sources name it', async () => {
    const before = await counts(company.id);
    const replay = await herald(['packets', 'replay', packetId, '--json']);
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({
      run: 1,
      from: 'fetched',
      stage: 'done',
      rowsLoaded: 2,
      rowsRejected: 1,
      workflowId: WORKFLOW_IDS.ingestReplay(packetId, 1),
    });
    expect(await counts(company.id)).toEqual(before);

    const replan = await herald(['packets', 'replay', packetId, '--from', 'loaded', '--json']);
    expect(JSON.parse(replan.stdout)).toMatchObject({ run: 2, from: 'loaded', stage: 'done' });
    expect(await counts(company.id)).toEqual(before);
    // a new run schedules the step by its new name; the old name is only for histories from before
    expect(await activitiesOf(WORKFLOW_IDS.ingestReplay(packetId, 2))).toEqual([
      'countPacketRegions',
      'finishPacket',
    ]);

    await addLoadMap(app, company.id, EHR_MAP);
    // a map's name is its active version, as upload and sources read it
    const remapped = await herald(['packets', 'replay', packetId, '--load-map', 'ehr', '--json']);
    expect(JSON.parse(remapped.stdout)).toMatchObject({ run: 3, loadMap: 'ehr v2', stage: 'done' });
    expect((await herald(['packets', 'replay', packetId, '--load-map', '9'])).stderr).toContain(
      `${company.alias} has no version 9 of load map "ehr"`,
    );
    expect((await herald(['packets', 'replay', packetId, '--from', 'planned'])).code).toBe(2);

    const log = (await events(packetId)).filter((e) => e.event === 'replay requested');
    expect(log.map((e) => [e.actor, e.details.from, e.details.run])).toEqual([
      ['test', 'fetched', 1],
      ['test', 'loaded', 2],
      ['test', 'fetched', 3],
    ]);
    expect(log[2]!.details.loadMap).toBe('ehr v2');
  });

  it('replay through another load map applies it: new values replace old, its rejects replace the old ones, appointments only the old map loaded are cancelled', async () => {
    // v1 reads names as they are and dates only as MM/DD/YYYY; v2 proper-cases names, also reads
    // YYYY-MM-DD dates, and requires an email
    const v1 = {
      ...EHR_MAP,
      fields: {
        ...EHR_MAP.fields,
        first_name: { column: 'First Name', required: true },
        appointment_date: {
          column: 'Appt Date',
          required: true,
          rules: [{ rule: 'date', formats: ['MM/DD/YYYY'] }],
        },
      },
    };
    const v2 = {
      ...EHR_MAP,
      fields: {
        ...EHR_MAP.fields,
        email: { column: 'Email', required: true, rules: [{ rule: 'email' }] },
        appointment_date: {
          column: 'Appt Date',
          required: true,
          rules: [{ rule: 'date', formats: ['MM/DD/YYYY', 'YYYY-MM-DD'] }],
        },
      },
    };
    const other = await createTestCompany(app, { prefix: 'remap', loadMap: v1 });
    await addLoadMap(app, other.id, v2);
    const later = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    const row = (id: string, first: string, email: string, date: string) => [
      id,
      first,
      'Byron',
      '(617) 555-0111',
      '',
      email,
      date,
      '09:30',
      `${id}-A`,
      '',
      '',
      '',
      '02139',
      'MA',
      '',
    ];
    const file = csv(EHR_HEADER, [
      row('P1', 'ADA', 'ada@example.com', daysFromNow(8)), // both load it; v2 says "Ada"
      row('P2', 'Alan', '', daysFromNow(9)), // v1 loads it; v2 rejects it (no email)
      row('P3', 'Grace', 'grace@example.com', later), // v1 rejects the date; v2 loads it
    ]);
    const first = await ingestFile(app, worker.taskQueue, other, 'remap.csv', file);
    expect(first.summary).toMatchObject({ stage: 'done', rowsLoaded: 2, rowsRejected: 1 });

    const remapped = await herald(['packets', 'replay', first.packet.uuid, '--load-map', '2', '--json']);
    expect(remapped.stderr).toBe('');
    expect(JSON.parse(remapped.stdout)).toMatchObject({
      loadMap: 'ehr v2',
      stage: 'done',
      rowsRead: 3,
      rowsLoaded: 2,
      rowsRejected: 1,
    });
    const contacts = await app.sql<{ external_id: string; first_name: string }[]>`
      select external_id, first_name from contacts where company_id = ${other.id} order by external_id`;
    // the contact v2 rejects stays: a replay cancels appointments, it never deletes people
    expect(contacts).toEqual([
      { external_id: 'P1', first_name: 'Ada' },
      { external_id: 'P2', first_name: 'Alan' },
      { external_id: 'P3', first_name: 'Grace' },
    ]);
    const appointments = await app.sql<{ external_id: string; status: string }[]>`
      select external_id, status from appointments where company_id = ${other.id} order by external_id`;
    expect(appointments).toEqual([
      { external_id: 'P1-A', status: 'scheduled' },
      { external_id: 'P2-A', status: 'cancelled' },
      { external_id: 'P3-A', status: 'scheduled' },
    ]);
    const rejects = await app.sql<{ row_number: number; column_name: string }[]>`
      select row_number, column_name from packet_rejects where packet_id = ${first.packet.id}`;
    expect(rejects).toEqual([{ row_number: 3, column_name: 'Email' }]);
    const [staging] = await app.sql<{ n: number }[]>`
      select count(*)::int as n from packet_rows where packet_id = ${first.packet.id}`;
    expect(staging!.n).toBe(0);
  });

  it('reset cancels a stuck ingest (terminating it when nobody acts on the cancellation) and runs the packet again', async () => {
    const stuck = await stuckPacket('stuck.csv');
    const reset = await herald(['packets', 'reset', stuck, '--stage', 'received', '--grace', '2', '--json']);
    expect(reset.stderr).toBe('');
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toMatchObject({
      stage: 'done',
      rowsLoaded: 2,
      cancelledWorkflow: WORKFLOW_IDS.ingestPacket(stuck),
    });
    const stopped = await (
      await app.client()
    ).workflow
      .getHandle(WORKFLOW_IDS.ingestPacket(stuck))
      .describe();
    expect(['CANCELLED', 'TERMINATED']).toContain(stopped.status.name);
    const log = await events(stuck);
    expect(log.find((e) => e.event === 'reset to received by an operator')).toMatchObject({
      actor: 'test',
      details: { previousStage: 'received' },
    });
    expect(log.find((e) => e.event === 'run after reset')).toMatchObject({
      actor: 'test',
      details: { from: 'fetched', run: 1 },
    });
  });

  it('reset --stage regions_counted finishes the packet without counting again; the old word sharded still works, with a note', async () => {
    const { packet } = await ingestFile(app, worker.taskQueue, company, 'counted.csv', FILE + '\r\n');
    const reset = await herald(['packets', 'reset', packet.uuid, '--stage', 'sharded', '--json']);
    expect(reset.stderr).toBe(
      'herald: the stage "sharded" is now called "regions_counted"; the old word still works\n',
    );
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toMatchObject({ stage: 'done', from: 'regions_counted', run: 1 });
    const log = await events(packet.uuid);
    expect(log.slice(-3).map((e) => [e.stage, e.event])).toEqual([
      ['regions_counted', 'reset to regions_counted by an operator'],
      ['regions_counted', 'run after reset'],
      ['done', 'stage done'],
    ]);
    expect(await activitiesOf(WORKFLOW_IDS.ingestReplay(packet.uuid, 1))).toEqual(['finishPacket']);

    const replay = await herald(['packets', 'replay', packet.uuid, '--from', 'regions_counted', '--json']);
    expect(replay.stderr).toBe('');
    expect(JSON.parse(replay.stdout)).toMatchObject({ run: 2, from: 'regions_counted', stage: 'done' });
    const listed = await herald(['packets', 'list', '--company', company.alias, '--stage', 'sharded']);
    expect(listed.stderr).toContain('"sharded" is now called "regions_counted"');
    expect(listed.code).toBe(0);
  });

  it('cancel stops a stuck ingest and marks the packet cancelled; a done packet cannot be cancelled', async () => {
    const stuck = await stuckPacket('stuck-too.csv');
    const cancel = await herald(['packets', 'cancel', stuck, '--grace', '1', '--json']);
    expect(cancel.code).toBe(0);
    expect(JSON.parse(cancel.stdout)).toMatchObject({
      stage: 'cancelled',
      cancelledWorkflow: WORKFLOW_IDS.ingestPacket(stuck),
    });
    expect((await events(stuck)).at(-1)).toMatchObject({
      stage: 'cancelled',
      event: 'cancelled by an operator',
      actor: 'test',
    });
    const again = await herald(['packets', 'cancel', packetId]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('is already done');
  });
});
