import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { SCHEDULE_IDS } from '../lib/names';
import { syncDiscoverySchedule } from '../lib/sources/schedule';
import { openTestApp, startTestWorker, type TestWorker } from './support/harness';
import { createTestCompany, csv, daysFromNow, EHR_HEADER, type TestCompany } from './support/ingest';
import {
  activityAttempts,
  addTestSource,
  discoverOnePagePerRun,
  historyText,
  ingestsFinished,
  keysUnder,
  packetsOf,
  runDiscovery,
  triggerAndWait,
} from './support/sources';

let app: App;
let worker: TestWorker;
let company: TestCompany;
let foreignBucket: string;

beforeAll(async () => {
  app = await openTestApp();
  worker = await startTestWorker(app);
  company = await createTestCompany(app, { prefix: 's3src' });
  foreignBucket = `acme-drop-${randomUUID().slice(0, 8)}`;
  await app.s3.send(new CreateBucketCommand({ Bucket: foreignBucket }));
});
const schedules: string[] = [];

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

const put = (Key: string, Body: string) =>
  app.s3.send(new PutObjectCommand({ Bucket: foreignBucket, Key, Body }));
const text = async (Bucket: string, Key: string) =>
  (await app.s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();

const day = daysFromNow(6);
const firstExport = csv(EHR_HEADER, [
  [
    'S1',
    'MARIA',
    'GONZALEZ',
    '(617) 555-0142',
    '',
    'maria@example.com',
    day,
    '9:30 AM',
    'SA1',
    '',
    'Dr. Alvarez',
    'Harbor',
    '02110',
    'MA',
    '',
  ],
  [
    'S2',
    'james',
    "o'brien",
    '',
    '617.555.0187',
    '',
    day,
    '14:15',
    'SA2',
    '',
    'Dr. Alvarez',
    'Harbor',
    '02116',
    'MA',
    '',
  ],
]);

describe('an S3 source, discovered through its Temporal schedule', () => {
  it('copies each new object of a foreign bucket into raw/, once per key and ETag, and ingests it', async () => {
    await put('exports/appointments.csv', firstExport);
    await put('exports/README.txt', 'not a data file');
    await put('elsewhere/other.csv', firstExport);
    const source = await addTestSource(app, company.alias, {
      kind: 's3',
      config: { bucket: foreignBucket, prefix: 'exports/', glob: '*.csv' },
      schedule: '1h',
      loadMap: 'ehr',
    });
    const client = await app.client();
    expect(
      await syncDiscoverySchedule(client, source, {
        timezone: 'America/New_York',
        taskQueue: worker.taskQueue,
      }),
    ).toBe('created');
    const schedule = client.schedule.getHandle(SCHEDULE_IDS.discoverSource(source.uuid));
    schedules.push(schedule.scheduleId);
    expect((await schedule.describe()).spec.intervals?.[0]?.every).toBe(3_600_000);
    // the hourly spec fires on the hour: paused, only the test's own triggers run (a trigger ignores the pause)
    await schedule.pause('the test triggers each run itself');

    const first = await triggerAndWait(app, schedule);
    expect(first.error).toBeUndefined();
    expect(first.totals).toMatchObject({ listed: 2, admitted: 1, skipped: 1, failed: 0 });
    const [packet] = await ingestsFinished(app, source, 1);
    expect(packet!.object_key).toMatch(
      new RegExp(`^raw/${company.alias}/${source.name}/[0-9a-f]{16}/appointments\\.csv$`),
    );
    expect(await text(app.bucket, packet!.object_key)).toBe(firstExport);
    expect(packet).toMatchObject({
      stage: 'done',
      rows_read: 2,
      rows_loaded: 2,
      original_name: 'appointments.csv',
    });

    // seen again: nothing new, nothing copied again
    const again = await triggerAndWait(app, schedule);
    expect(again.totals).toMatchObject({ listed: 2, admitted: 0, skipped: 2 });
    expect(await packetsOf(app, source)).toHaveLength(1);

    // replaced under the same key: a new ETag is a new packet, and the first version's bytes stay ours
    const secondExport = csv(EHR_HEADER, [
      ['S3', 'Ava', 'McDonald', '6175550123', '', '', day, '2:45 pm', 'SA3', '', '', '', '', '', ''],
    ]);
    await put('exports/appointments.csv', secondExport);
    const third = await triggerAndWait(app, schedule);
    expect(third.totals).toMatchObject({ admitted: 1 });
    const packets = await ingestsFinished(app, source, 2);
    expect(packets[1]!.object_key).not.toBe(packets[0]!.object_key);
    expect(await text(app.bucket, packets[0]!.object_key)).toBe(firstExport);
    expect(await text(app.bucket, packets[1]!.object_key)).toBe(secondExport);
    expect(packets.map((p) => p.stage)).toEqual(['done', 'done']);

    // the discovery's history carries keys and counts, never the file's rows
    const history = await historyText(app, first.workflowId, first.runId);
    expect(history).toContain('appointments.csv');
    expect(history).not.toContain('GONZALEZ');
  });

  it("uses objects in herald's own bucket in place, and pages through long listings, continuing as new", async () => {
    const prefix = `inbox/${company.alias}/${randomUUID().slice(0, 8)}/`;
    // 1,002 keys: a listing page holds 1,000, so discovery needs a second page to find the last file
    const noise = Array.from(
      { length: 1000 },
      (_, i) => `${prefix}archive/${String(i).padStart(4, '0')}.bak`,
    );
    for (let i = 0; i < noise.length; i += 50) {
      await Promise.all(
        noise
          .slice(i, i + 50)
          .map((Key) => app.s3.send(new PutObjectCommand({ Bucket: app.bucket, Key, Body: 'x' }))),
      );
    }
    await app.s3.send(
      new PutObjectCommand({ Bucket: app.bucket, Key: `${prefix}a-first.csv`, Body: firstExport }),
    );
    await app.s3.send(
      new PutObjectCommand({ Bucket: app.bucket, Key: `${prefix}z-last.csv`, Body: firstExport }),
    );
    const source = await addTestSource(app, company.alias, {
      kind: 's3',
      config: { bucket: app.bucket, prefix, glob: '*.csv' },
      loadMap: 'ehr',
    });

    // one page per run: the second page is listed by the run the first continued as new into, totals carried over
    const { totals, runs } = await discoverOnePagePerRun(app, source, worker.taskQueue);
    expect(totals).toMatchObject({ listed: 1002, admitted: 2, skipped: 1000, failed: 0 });
    expect(runs).toEqual(['COMPLETED', 'CONTINUED_AS_NEW']);
    const packets = await ingestsFinished(app, source, 2);
    // ours already: no copy under raw/
    expect(packets.map((p) => p.object_key).sort()).toEqual([`${prefix}a-first.csv`, `${prefix}z-last.csv`]);
    expect(await keysUnder(app, `raw/${company.alias}/${source.name}/`)).toEqual([]);
  });

  it('fails at once, naming the bucket, when the bucket does not exist', async () => {
    const source = await addTestSource(app, company.alias, {
      kind: 's3',
      config: { bucket: 'no-such-bucket-herald' },
      loadMap: 'ehr',
    });
    const run = await runDiscovery(app, source, worker.taskQueue);
    expect(run.error?.type).toBe('S3Source');
    expect(run.error?.message).toContain('s3://no-such-bucket-herald/');
    expect(await activityAttempts(app, run.workflowId)).toEqual({ describeSource: 1, listNewS3Objects: 1 });
  });
});
