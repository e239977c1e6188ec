import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { loadCompanyPlan } from '../lib/messages/due-steps';
import { packetReminders } from '../lib/messages/upcoming';
import { TASK_QUEUES } from '../lib/names';
import { runHerald } from './support/cli';
import { eventually, openTestApp, startTestWorker, type TestWorker } from './support/harness';
import { createTestCompany, csv, daysFromNow, type TestCompany } from './support/ingest';

let app: App;
let worker: TestWorker;
let company: TestCompany;
const SAMPLE = 'loadmaps/samples/demo-clinic-ehr-appointments.csv';

beforeAll(async () => {
  app = await openTestApp();
  // the CLI starts ingests on the pipeline queue, as in production; this worker hosts it for the test
  worker = await startTestWorker(app, { taskQueue: TASK_QUEUES.pipeline });
  // a company of its own with the demo clinic's real map, so the sample file is read as in the demo
  const map = JSON.parse(await readFile('loadmaps/demo-clinic-ehr.json', 'utf8')) as Record<string, unknown>;
  company = await createTestCompany(app, { prefix: 'upload', loadMap: { ...map, company: undefined } });
});
afterAll(async () => {
  await worker?.stop();
  await app?.close();
});

/** The reminders a packet's appointments will get, computed from their company's plan. */
async function remindersToCome(packetUuid: string): Promise<number> {
  const [packet] = await app.sql<
    { id: number; company_id: number }[]
  >`select id, company_id from data_packets where uuid = ${packetUuid}`;
  const plan = (await loadCompanyPlan(app.sql, packet!.company_id))!;
  return (await packetReminders(app.sql, plan, packet!.id, new Date().toISOString())).toCome;
}

describe('herald upload', () => {
  it('uploads the file, ingests it at once, waits, and prints the packet summary', async () => {
    const run = await runHerald([
      'upload',
      SAMPLE,
      '--company',
      company.alias,
      '--load-map',
      'ehr-appointments',
      '--json',
    ]);
    expect(run.stderr).not.toMatch(/herald: /);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      companyAlias: company.alias,
      fileName: 'demo-clinic-ehr-appointments.csv',
      loadMap: 'ehr-appointments v1',
      stage: 'done',
      rowsRead: 18,
      rowsLoaded: 12,
      rowsRejected: 5,
      rowsDuplicate: 1,
      alreadyReceived: false,
      error: null,
    });
    expect(await remindersToCome(summary.packetId as string)).toBeGreaterThan(0);
    expect(summary.rejectsUrl).toMatch(new RegExp(`^s3://${app.bucket}/`));
    expect(summary.workflowUrl).toMatch(/\/namespaces\/default\/workflows\/ingest%2F/);
    expect(summary.objectKey).toMatch(
      new RegExp(`^raw/${company.alias}/upload/[0-9a-f]{16}/demo-clinic-ehr-appointments\\.csv$`),
    );
    const stored = await app.s3.send(
      new GetObjectCommand({ Bucket: app.bucket, Key: summary.objectKey as string }),
    );
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(await readFile(SAMPLE))).toBe(true);

    // the same file again is the same packet: nothing uploaded, nothing ingested twice
    const again = await runHerald([
      'upload',
      SAMPLE,
      '--company',
      company.alias,
      '--load-map',
      'ehr-appointments',
    ]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(
      `was already received as packet ${summary.packetId as string}; nothing was uploaded`,
    );
    expect(again.stdout).toContain(`Packet ${summary.packetId as string}  demo-clinic-ehr-appointments.csv`);
    expect(again.stdout).toContain('rows        read 18, loaded 12, rejected 5, duplicates 1');
    expect(again.stdout).toMatch(/rejects {5}s3:\/\//);
    expect(again.stdout).toMatch(
      /workflow {4}http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/ingest%2F/,
    );
    const packets = await app.sql`select id from data_packets where company_id = ${company.id}`;
    expect(packets).toHaveLength(1);
  });

  it.each([
    [
      'the school roster (XLSX)',
      'loadmaps/samples/demo-school-conferences.xlsx',
      'demo-school',
      { rowsRead: 9, rowsLoaded: 6, rowsRejected: 3, rowsDuplicate: 0 },
    ],
    [
      'the utility notice list (Windows-1252, semicolons)',
      'loadmaps/samples/demo-utility-service-notices.csv',
      'demo-utility',
      { rowsRead: 10, rowsLoaded: 7, rowsRejected: 3, rowsDuplicate: 0 },
    ],
  ])(
    'ingests %s into its demo company, whose plan gives its appointments reminders',
    async (_what, file, alias, counts) => {
      const run = await runHerald(['upload', file, '--company', alias, '--json']);
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(summary).toMatchObject({ stage: 'done', error: null, ...counts });
      expect(await remindersToCome(summary.packetId as string)).toBeGreaterThan(0);
    },
  );

  it('says how to replay a packet that failed when the same file is uploaded again, instead of only "already received"', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-upload-'));
    const file = path.join(dir, 'renamed-columns.csv');
    const header = ['Patient ID', 'Given Name', 'Patient Last Name', 'Cell Phone', 'Appt Date', 'Appt Time'];
    await writeFile(file, csv(header, [['R1', 'Ana', 'Ruiz', '6175550171', daysFromNow(4), '11:00 AM']]));
    const first = await runHerald(['upload', file, '--company', company.alias, '--json']);
    expect(first.code).toBe(1);
    const failed = JSON.parse(first.stdout) as { packetId: string; stage: string; error: string };
    expect(failed.stage).toBe('failed');
    expect(failed.error).toContain('lacks required columns: first_name ("Patient First Name")');

    const again = await runHerald([
      'upload',
      file,
      '--company',
      company.alias,
      '--load-map',
      'ehr-appointments@1',
    ]);
    expect(again.stderr).toContain(`was already received as packet ${failed.packetId}; nothing was uploaded`);
    expect(again.stderr).toContain(
      `that packet failed; this is the same file, so to read it again (after fixing the load map, or with another) run:\n  herald packets replay ${failed.packetId} --load-map ehr-appointments@1`,
    );
  });

  it('takes an empty export uploaded again as a new file, not as "already received"', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-upload-'));
    const file = path.join(dir, 'appointments-today.csv');
    await writeFile(
      file,
      'Patient ID,Patient First Name,Patient Last Name,Cell Phone,Appt Date,Appt Time\r\n',
    );
    const first = JSON.parse(
      (await runHerald(['upload', file, '--company', company.alias, '--json'])).stdout,
    ) as {
      packetId: string;
      error: string;
    };
    expect(first.error).toContain('no data rows');
    const second = await runHerald(['upload', file, '--company', company.alias, '--json']);
    const repeat = JSON.parse(second.stdout) as { packetId: string; alreadyReceived: boolean; error: string };
    expect(repeat.alreadyReceived).toBe(false);
    expect(repeat.packetId).not.toBe(first.packetId);
    expect(repeat.error).toContain('no data rows');
    const keys = await app.sql<{ dedupe_key: string }[]>`
      select dedupe_key from data_packets where uuid in ${app.sql([first.packetId, repeat.packetId])} order by id`;
    expect(keys.map((k) => k.dedupe_key.replace(/^upload:sha256:[0-9a-f]{64}/, ''))).toEqual(['', '#1']);
  });

  it('returns at once with --no-wait, and the ingest goes on without it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-upload-'));
    const file = path.join(dir, 'walk-ins.csv');
    const header = [
      'Patient ID',
      'Patient First Name',
      'Patient Last Name',
      'Cell Phone',
      'Appt Date',
      'Appt Time',
      'State',
    ];
    await writeFile(
      file,
      csv(header, [['W1', 'Ana', 'Ruiz', '6175550170', daysFromNow(4), '11:00 AM', 'MA']]),
    );
    const run = await runHerald([
      'upload',
      file,
      '--company',
      company.alias,
      '--load-map',
      'ehr-appointments',
      '--no-wait',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { packetId: string; stage: string };
    expect(summary.stage).not.toBe('done');
    const stage = await eventually(async () => {
      const [p] = await app.sql<
        { stage: string }[]
      >`select stage from data_packets where uuid = ${summary.packetId}`;
      return p?.stage === 'done' ? p.stage : undefined;
    }, 60_000);
    expect(stage).toBe('done');
  });

  it.each([
    [
      'an unknown company',
      [SAMPLE, '--company', 'no-such-company'],
      'no company has the alias "no-such-company"',
    ],
    [
      'a missing file',
      ['nope/missing.csv', '--company', 'demo-clinic'],
      'nope/missing.csv is not a readable file',
    ],
    [
      'an unknown load map',
      [SAMPLE, '--company', 'demo-clinic', '--load-map', 'nope'],
      'company demo-clinic has no load map "nope" (it has: ehr-appointments (versions 1; active 1))',
    ],
  ])('stops with exit code 2 for %s', async (_what, args, message) => {
    const run = await runHerald(['upload', ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
