// Every object herald writes asks the store to encrypt it at rest, whichever write path makes it.
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type App } from '../lib/app';
import { exportArchivedMessages } from '../lib/archive/export';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { createS3Client } from '../lib/s3';
import { copyResumable } from '../lib/sources/resumable-copy';
import { storeObject } from '../lib/sources/store-object';
import { startS3Recorder, type RecordedS3Request, type S3Recorder } from './standins/s3-recorder';
import { startTestWorker, type TestWorker } from './support/harness';
import { createTestCompany, csv, EHR_HEADER, ingestFile } from './support/ingest';

let recorder: S3Recorder;
let app: App;
let worker: TestWorker;

beforeAll(async () => {
  recorder = await startS3Recorder(process.env.S3_ENDPOINT!);
  const config = loadConfig({ ...process.env, S3_ENDPOINT: recorder.url });
  app = await openApp({ config, log: createLogger({ level: 'warn', pretty: false }) });
  worker = await startTestWorker(app);
});
afterAll(async () => {
  await worker?.stop();
  await app?.close();
  await recorder?.close();
});

/** A request that makes an object: PutObject, CreateMultipartUpload or CopyObject (not a part, not a bucket). */
function createsObject(r: RecordedS3Request): boolean {
  const url = new URL(r.url, 'http://s3');
  const isObject = url.pathname.split('/').filter(Boolean).length >= 2;
  if (r.method === 'POST') return isObject && url.searchParams.has('uploads');
  return r.method === 'PUT' && isObject && !url.searchParams.has('partNumber');
}

const objectKey = (r: RecordedS3Request) =>
  decodeURIComponent(new URL(r.url, 'http://s3').pathname.split('/').slice(2).join('/'));

describe('server-side encryption', () => {
  it('is asked for on every object herald writes: raw files, rejects reports, copies, uploads, archives', async () => {
    const from = recorder.requests.length;
    const company = await createTestCompany(app, { prefix: 'sse' });
    const file = csv(EHR_HEADER, [
      ['P1', 'Ann', 'Lee', 'not a phone', '', '', 'never', '', 'A1', '', '', '', '', '', ''],
    ]);
    const ingest = await ingestFile(app, worker.taskQueue, company, 'sse.csv', file);
    expect(ingest.summary).toMatchObject({ stage: 'done', rowsRejected: 1 });
    // a source copy and an upload large enough to go in parts, and a small copy in one PUT
    const big = Buffer.alloc(9 * 1024 * 1024, 'a');
    const open = async () => ({
      stream: Readable.from([big]),
      offset: 0,
      version: 'v1',
      totalSize: big.length,
    });
    await copyResumable(app.s3, app.bucket, `raw/${company.alias}/sse/copy.csv`, open);
    await copyResumable(app.s3, app.bucket, `raw/${company.alias}/sse/small.csv`, async () => ({
      stream: Readable.from([Buffer.from('a\n1\n')]),
      offset: 0,
      version: '',
    }));
    await storeObject(app.s3, app.bucket, `raw/${company.alias}/upload/big.csv`, Readable.from([big]));
    await exportArchivedMessages(app.s3, app.bucket, {
      companyAlias: company.alias,
      batchName: 'sse',
      rows: [{ day: '2025/05/01', message: { id: 1 }, updates: [] }],
    });

    const creating = recorder.requests.slice(from).filter(createsObject);
    const keys = creating.map(objectKey);
    expect(keys).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^raw\/sse-\w+\/tests\/.*\/sse\.csv$/),
        `rejects/${company.alias}/${ingest.packet.uuid}.csv`,
        `raw/${company.alias}/sse/copy.csv`,
        `raw/${company.alias}/sse/small.csv`,
        `raw/${company.alias}/upload/big.csv`,
        `archive/${company.alias}/2025/05/01/sse.ndjson.gz`,
      ]),
    );
    expect(creating.filter((r) => r.method === 'POST').length).toBeGreaterThanOrEqual(2);
    for (const request of creating)
      expect(request.headers['x-amz-server-side-encryption'], `${request.method} ${request.url}`).toBe(
        'AES256',
      );
  });

  it('asks for KMS with a key when configured, and for nothing when set to none', async () => {
    for (const [mode, key, expected] of [
      ['aws:kms', 'alias/herald-raw', { sse: 'aws:kms', key: 'alias/herald-raw' }],
      ['none', undefined, { sse: undefined, key: undefined }],
    ] as const) {
      const config = loadConfig({
        ...process.env,
        S3_ENDPOINT: recorder.url,
        S3_SERVER_SIDE_ENCRYPTION: mode,
        S3_SSE_KMS_KEY_ID: key ?? '',
      });
      const s3 = createS3Client({ ...app.runtime.s3, serverSideEncryption: config.s3.serverSideEncryption });
      const from = recorder.requests.length;
      await s3.send(new PutObjectCommand({ Bucket: app.bucket, Key: `sse-${mode}.txt`, Body: 'x' }));
      s3.destroy();
      const [put] = recorder.requests.slice(from).filter(createsObject);
      expect({
        sse: put!.headers['x-amz-server-side-encryption'],
        key: put!.headers['x-amz-server-side-encryption-aws-kms-key-id'],
      }).toEqual(expected);
    }
    expect(() => loadConfig({ ...process.env, S3_SSE_KMS_KEY_ID: 'alias/x' })).toThrow(
      /S3_SSE_KMS_KEY_ID is used only with S3_SERVER_SIDE_ENCRYPTION=aws:kms/,
    );
  });
});
