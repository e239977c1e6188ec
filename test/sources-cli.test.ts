import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { SCHEDULE_IDS, TASK_QUEUES } from '../lib/names';
import { runHerald } from './support/cli';
import { eventually, openTestApp, startTestWorker, type TestWorker } from './support/harness';
import {
  addLoadMap,
  createTestCompany,
  csv,
  daysFromNow,
  EHR_HEADER,
  EHR_MAP,
  type TestCompany,
} from './support/ingest';

let app: App;
let worker: TestWorker;
let company: TestCompany;
const schedules: string[] = [];

beforeAll(async () => {
  app = await openTestApp();
  // `sources run` starts discovery on the pipeline queue, as in production
  worker = await startTestWorker(app, { taskQueue: TASK_QUEUES.pipeline });
  company = await createTestCompany(app, { prefix: 'srccli', timezone: 'America/Denver' });
});
afterAll(async () => {
  const client = await app.client();
  for (const id of schedules)
    await client.schedule
      .getHandle(id)
      .delete()
      .catch(() => {});
  await worker?.stop();
  await app?.close();
});

const json = <T>(stdout: string) => JSON.parse(stdout) as T;
type Added = {
  source: { uuid: string; name: string; config: Record<string, unknown> };
  created: boolean;
  schedule: string;
  scheduleId: string;
};

describe('herald sources', () => {
  it('adds an S3 source with its schedule, changes the schedule, lists it and runs its discovery now', async () => {
    const prefix = `inbox/${company.alias}/`;
    const add = await runHerald([
      'sources',
      'add',
      '--company',
      company.alias,
      '--name',
      'nightly-drop',
      '--kind',
      's3',
      '--bucket',
      app.bucket,
      '--prefix',
      prefix,
      '--glob',
      '*.csv',
      '--schedule',
      '15m',
      '--load-map',
      'ehr',
      '--json',
    ]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const added = json<Added>(add.stdout);
    expect(added).toMatchObject({
      created: true,
      schedule: 'created',
      scheduleId: SCHEDULE_IDS.discoverSource(added.source.uuid),
    });
    schedules.push(added.scheduleId);
    const client = await app.client();
    const described = await client.schedule.getHandle(added.scheduleId).describe();
    expect(described.spec.intervals?.[0]?.every).toBe(15 * 60_000);
    expect(described.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'discoverSource',
      taskQueue: TASK_QUEUES.pipeline,
    });
    expect(described.state.paused).toBe(false);

    const change = await runHerald([
      'sources',
      'add',
      '--company',
      company.alias,
      '--name',
      'nightly-drop',
      '--kind',
      's3',
      '--bucket',
      app.bucket,
      '--prefix',
      prefix,
      '--schedule',
      '30 5 * * 1-5',
      // pinned to version 1: a newer version does not reach this source until it names it
      '--load-map',
      'ehr@1',
    ]);
    expect(change.code).toBe(0);
    await addLoadMap(app, company.id, EHR_MAP);
    expect(change.stdout).toContain(
      `source ${company.alias}/nightly-drop (s3) updated: ${added.source.uuid}`,
    );
    expect(change.stdout).toContain('schedule updated: ');
    expect(change.stdout).toContain('at "30 5 * * 1-5" (America/Denver)');
    const changed = await client.schedule.getHandle(added.scheduleId).describe();
    expect(changed.spec.timezone).toBe('America/Denver');
    expect(changed.spec.calendars?.[0]).toMatchObject({
      hour: [{ start: 5, end: 5, step: 1 }],
      minute: [{ start: 30, end: 30, step: 1 }],
    });

    await app.s3.send(
      new PutObjectCommand({
        Bucket: app.bucket,
        Key: `${prefix}appointments.csv`,
        Body: csv(EHR_HEADER, [
          [
            'C1',
            'Ana',
            'Ruiz',
            '6175550170',
            '',
            '',
            daysFromNow(4),
            '11:00 AM',
            'CA1',
            '',
            '',
            '',
            '',
            'MA',
            '',
          ],
        ]),
      }),
    );
    const run = await runHerald(['sources', 'run', 'nightly-drop', '--company', company.alias, '--json']);
    expect(run.code).toBe(0);
    expect(json<Record<string, unknown>>(run.stdout)).toMatchObject({
      listed: 1,
      admitted: 1,
      failed: 0,
      workflowId: `discover/${added.source.uuid}`,
    });
    // the ingest records the version it read the file with
    const packet = await eventually(async () => {
      const [row] = await app.sql`
        select m.name, m.version from data_packets p join company_load_maps m on m.id = p.load_map_id
        where p.company_id = ${company.id}`;
      return row;
    });
    expect(packet).toEqual({ name: 'ehr', version: 1 });
    const again = await runHerald(['sources', 'run', 'nightly-drop', '--company', company.alias]);
    expect(again.stdout).toContain(
      'listed 1, new packets 0, skipped 1 (already received or not matching), failed 0',
    );

    const list = await runHerald(['sources', 'list', '--company', company.alias, '--json']);
    expect(json<Record<string, unknown>[]>(list.stdout)).toEqual([
      expect.objectContaining({
        name: 'nightly-drop',
        kind: 's3',
        schedule: '30 5 * * 1-5',
        loadMap: 'ehr@1',
        active: true,
        packets: 1,
      }),
    ]);
  });

  it('adds an API source from a JSON file, its secret header kept as a reference, paused while inactive', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-sources-'));
    const file = path.join(dir, 'acme-api.json');
    await writeFile(
      file,
      JSON.stringify({
        company: company.alias,
        name: 'acme-api',
        kind: 'api',
        config: {
          url: 'https://api.acme-health.example/v1/appointments',
          format: 'ndjson',
          headers: { Authorization: { env: 'HERALD_SECRET_ACME_API_TOKEN', prefix: 'Bearer ' } },
        },
        schedule: '1h',
        active: false,
      }),
    );
    const add = await runHerald(['sources', 'add', '--file', file, '--json']);
    expect(add.code).toBe(0);
    const added = json<Added>(add.stdout);
    schedules.push(added.scheduleId);
    expect(added.source.config).toMatchObject({
      headers: { Authorization: { env: 'HERALD_SECRET_ACME_API_TOKEN', prefix: 'Bearer ' } },
    });
    expect((await (await app.client()).schedule.getHandle(added.scheduleId).describe()).state).toMatchObject({
      paused: true,
      note: 'the source is inactive',
    });
  });

  it('reads "{env:NAME}" in a header flag as a reference, and refuses a secret written in clear', async () => {
    const add = await runHerald([
      'sources',
      'add',
      '--company',
      company.alias,
      '--name',
      'flags-api',
      '--kind',
      'api',
      '--url',
      'https://api.example.com/export',
      '--format',
      'csv',
      '--header',
      'Authorization: Bearer {env:HERALD_SECRET_ACME_API_TOKEN}',
      '--header',
      'Accept: text/csv',
      '--json',
    ]);
    expect(add.code).toBe(0);
    expect(json<Added>(add.stdout)).toMatchObject({
      schedule: 'none',
      source: {
        config: {
          headers: {
            Authorization: { env: 'HERALD_SECRET_ACME_API_TOKEN', prefix: 'Bearer ' },
            Accept: 'text/csv',
          },
        },
      },
    });

    const clear = await runHerald([
      'sources',
      'add',
      '--company',
      company.alias,
      '--name',
      'leaky',
      '--kind',
      'api',
      '--url',
      'https://api.example.com/export',
      '--format',
      'csv',
      '--header',
      'Authorization: Bearer abc123',
    ]);
    expect(clear.code).toBe(2);
    expect(clear.stderr).toContain('config.headers.Authorization: header Authorization carries a secret');
    expect((await app.sql`select id from data_ingest_sources where name = 'leaky'`).length).toBe(0);
  });

  it('says what is wrong with a run of a source that does not exist', async () => {
    const run = await runHerald(['sources', 'run', 'nope', '--company', company.alias]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`company ${company.alias} has no source named "nope"`);
  });
});
