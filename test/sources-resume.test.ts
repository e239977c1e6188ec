import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import type { PacketRow } from '../lib/packets';
import { startDiscovery } from '../lib/sources/run-discovery';
import type { CopyProgress } from '../lib/sources/resumable-copy';
import type { StoredSource } from '../lib/sources/store';
import { startHttpFeed, type FeedAnswer, type HttpFeed } from './standins/http-feed';
import { startSftpStandin, type SftpStandin } from './standins/sftp';
import { eventually, openTestApp } from './support/harness';
import { createTestCompany, type TestCompany } from './support/ingest';
import { activityAttempts, addTestSource, packetsOf } from './support/sources';
import { killWorkerProcesses, startWorkerProcess } from './support/worker-process';

const MiB = 1024 * 1024;
const FAST_HEARTBEATS = { WORKER_HEARTBEAT_THROTTLE_MS: '1000' };
const PART = 8 * MiB;
let app: App;
let company: TestCompany;
let sftp: SftpStandin;
let feed: HttpFeed;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'herald-resume-copy-'));
  await mkdir(path.join(root, 'outbound'));
  sftp = await startSftpStandin({ root, username: 'acme', password: 'resume-pass' });
  feed = await startHttpFeed();
  // the worker processes read secrets from the environment they inherit
  process.env.HERALD_SECRET_TEST_SFTP_RESUME_PASSWORD = 'resume-pass';
  app = await openTestApp();
  company = await createTestCompany(app, { prefix: 'resume-copy' });
}, 120_000);
afterAll(async () => {
  killWorkerProcesses();
  await app?.close();
  await sftp?.close();
  await feed?.close();
});

/**
 * A file of 2.6 parts whose every 16-byte line names its own position: a part stored twice or a
 * range skipped changes the bytes. Its header is not the load map's, so the ingest after the copy
 * fails at once instead of loading 1.4M rows; the copy is what these tests are about.
 */
function numberedFile(): Buffer {
  const header = Buffer.from('line,noise\n');
  const lines = Math.ceil((2.6 * PART) / 16);
  const file = Buffer.alloc(header.length + lines * 16);
  header.copy(file);
  // written byte by byte: a template string per line took seconds, and blocked the stand-ins that
  // share this process (the SFTP server, the HTTP feed) meanwhile
  const noise = Buffer.from(randomBytes(lines * 2).toString('hex'), 'latin1');
  for (let i = 0, at = header.length; i < lines; i += 1, at += 16) {
    for (let d = 9, n = i; d >= 0; d -= 1, n = Math.floor(n / 10)) file[at + d] = 0x30 + (n % 10);
    file[at + 10] = 0x2c; // ,
    noise.copy(file, at + 11, i * 4, i * 4 + 4);
    file[at + 15] = 0x0a; // \n
  }
  return file;
}

/** The copy's last checkpoint Temporal holds, once it names at least `parts` stored parts. */
async function checkpointWithParts(handle: WorkflowHandle, parts: number): Promise<CopyProgress> {
  return eventually(async () => {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    for (const activity of pending) {
      const payload = activity.heartbeatDetails?.payloads?.[0]?.data;
      if (!payload) continue;
      const progress = JSON.parse(Buffer.from(payload).toString()) as CopyProgress;
      if ((progress.checkpoint?.parts.length ?? 0) >= parts) return progress;
    }
    return undefined;
  }, 180_000);
}

/** An SFTP source for a directory of the stand-in, its CSV files. */
function sftpSource(directory: string): Promise<StoredSource> {
  return addTestSource(app, company.alias, {
    kind: 'sftp',
    config: {
      host: sftp.host,
      port: sftp.port,
      username: 'acme',
      passwordEnv: 'HERALD_SECRET_TEST_SFTP_RESUME_PASSWORD',
      hostKeySha256: sftp.fingerprint,
      directory,
      glob: '*.csv',
    },
    loadMap: 'ehr',
  });
}

/** An API source for a path of the feed, whose answers stop short of the third part's end until released. */
async function heldApiSource(pathname: string): Promise<StoredSource> {
  const source = await addTestSource(app, company.alias, {
    kind: 'api',
    config: { url: `${feed.url}${pathname}`, format: 'csv' },
    loadMap: 'ehr',
  });
  feed.hold(2 * PART + MiB);
  return source;
}

async function storedBytes(key: string): Promise<Buffer> {
  const object = await app.s3.send(new GetObjectCommand({ Bucket: app.bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

// A retry reads the copy's checkpoint from Temporal whatever ended the attempt before it: the killed
// worker's copies are SFTP files, the HTTP Range and ETag cases fail an attempt in a live worker.
describe('copies interrupted by a killed worker', () => {
  it('continue an SFTP file from the end of its last stored part, byte for byte, and abort the upload of one whose file is gone when the retry comes', async () => {
    const file = numberedFile();
    await writeFile(path.join(root, 'outbound', 'big-export.csv'), file);
    await mkdir(path.join(root, 'vanishing'));
    const vanishing = path.join(root, 'vanishing', 'export.csv');
    await writeFile(vanishing, numberedFile());
    const kept = await sftpSource('/outbound');
    const gone = await sftpSource('/vanishing');
    // reads stop short of the third part's end until the first worker is dead
    sftp.hold('big-export.csv', 2 * PART + MiB);
    sftp.hold('export.csv', 2 * PART + MiB);

    // one worker copies both files and is killed once Temporal holds two stored parts of each; its
    // heartbeats reach Temporal within a second, and Temporal notices its death by the copy's own
    // heartbeat timeout, as in production (both copies wait that out together)
    const taskQueue = `test-resume-copy-${kept.uuid}`;
    const first = await startWorkerProcess(taskQueue, FAST_HEARTBEATS);
    const client = await app.client();
    const keptRun = await startDiscovery(client, kept, { taskQueue });
    const goneRun = await startDiscovery(client, gone, { taskQueue });
    const keptCheckpoint = await checkpointWithParts(keptRun, 2);
    const { key, uploadId } = (await checkpointWithParts(goneRun, 2)).checkpoint!;
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    expect(await openUploads(key)).toEqual([uploadId]);
    await rm(vanishing);
    sftp.release();
    await startWorkerProcess(taskQueue);

    expect(await keptRun.result()).toMatchObject({ listed: 1, admitted: 1, failed: 0 });
    expect(keptCheckpoint.checkpoint!.parts.map((p) => p.size)).toEqual([PART, PART]);
    const [packet] = await packetsOf(app, kept);
    expect(packet!.size_bytes).toBe(file.length);
    expect((await storedBytes(packet!.object_key)).equals(file)).toBe(true);
    expect(packet!.checksum).toBe(`sha256:${createSha256(file)}`);
    expect(metadataOf(packet!)).toMatchObject({ resumedFromByte: 2 * PART });
    // the second worker read the file from the end of the second part, not from its start
    const reads = sftp.log.reads
      .filter((r) => r.path === '/outbound/big-export.csv')
      .map((r) => r.firstOffset);
    expect(reads).toEqual([0, 2 * PART]);

    // the retry finds the other file gone, which is not retried: the dead attempt's upload is aborted
    expect(await failureType(goneRun)).toBe('DiscoveryIncomplete');
    expect(await activityAttempts(app, goneRun.workflowId)).toMatchObject({ admitSftpFile: 2 });
    expect(await openUploads(key)).toEqual([]);
    expect(await packetsOf(app, gone)).toEqual([]);
  }, 600_000);
});

/** Ids of the multipart uploads the bucket still holds open for `key`. */
async function openUploads(key: string): Promise<string[]> {
  const listed = await app.s3.send(new ListMultipartUploadsCommand({ Bucket: app.bucket, Prefix: key }));
  return (listed.Uploads ?? []).filter((u) => u.Key === key).map((u) => u.UploadId!);
}

/** The Temporal type of the discovery's failure; throws when the discovery did not fail. */
async function failureType(handle: WorkflowHandle): Promise<string | undefined> {
  const err: unknown = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError)) throw new Error(`the discovery did not fail: ${String(err)}`);
  return (err.cause as Error & { type?: string }).type;
}

describe('a copy whose attempt fails in the worker', () => {
  // the worker lives through these cases (each attempt fails in it), so they share one
  const taskQueue = 'test-copy-fails';
  beforeAll(async () => {
    await startWorkerProcess(taskQueue, FAST_HEARTBEATS);
  }, 120_000);

  /**
   * Serves `file` at `pathname` (resumable, ETag "v1", unless `first` says otherwise; answered by
   * `later` from the second request on, when given) to an API source's discovery, whose heartbeats reach
   * Temporal within a second. Once Temporal holds a checkpoint with two stored parts (the upload is
   * open then), the answer breaks off: the first attempt fails in the worker, which lives on.
   */
  async function breakOffAfterTwoParts(
    pathname: string,
    file: Buffer,
    later?: FeedAnswer,
    first: Partial<FeedAnswer> = {},
  ) {
    const answer: FeedAnswer = { contentType: 'text/csv', body: file, etag: '"v1"', ranges: true, ...first };
    feed.routes.set(pathname, later ? [answer, later] : answer);
    const source = await heldApiSource(pathname);
    const handle = await startDiscovery(await app.client(), source, { taskQueue });
    const { checkpoint } = await checkpointWithParts(handle, 2);
    expect(await openUploads(checkpoint!.key)).toEqual([checkpoint!.uploadId]);
    feed.cut();
    const requests = () => feed.requests.filter((r) => r.path === pathname);
    return { source, handle, key: checkpoint!.key, requests };
  }

  it('keeps its upload when the answer breaks off, and the retry continues it', async () => {
    const file = numberedFile();
    const { source, handle, key, requests } = await breakOffAfterTwoParts('/export/cut.csv', file);

    expect(await handle.result()).toMatchObject({ admitted: 1, failed: 0 });
    const [packet] = await packetsOf(app, source);
    expect((await storedBytes(packet!.object_key)).equals(file)).toBe(true);
    expect(metadataOf(packet!)).toMatchObject({ resumedFromByte: 2 * PART });
    expect(requests().map((r) => [r.headers.range, r.headers['if-range']])).toEqual([
      [undefined, undefined],
      [`bytes=${2 * PART}-`, '"v1"'],
    ]);
    expect(await activityAttempts(app, handle.workflowId)).toMatchObject({ pullApiSource: 2 });
    expect(await openUploads(key)).toEqual([]);
  }, 600_000);

  it('starts over when the ETag changed meanwhile, keeping none of the old bytes', async () => {
    const after = numberedFile();
    const { source, handle, key, requests } = await breakOffAfterTwoParts(
      '/export/changing.csv',
      numberedFile(),
      {
        contentType: 'text/csv',
        body: after,
        etag: '"v2"',
        ranges: true,
      },
    );

    expect(await handle.result()).toMatchObject({ admitted: 1, failed: 0 });
    const [packet] = await packetsOf(app, source);
    expect((await storedBytes(packet!.object_key)).equals(after)).toBe(true);
    expect(packet!.checksum).toBe(`sha256:${createSha256(after)}`);
    expect(metadataOf(packet!)).not.toHaveProperty('resumedFromByte');
    // asked for the rest, was given the whole new answer (If-Range did not match)
    expect(requests().map((r) => r.headers.range)).toEqual([undefined, `bytes=${2 * PART}-`]);
    expect(await openUploads(key)).toEqual([]);
  }, 600_000);

  it('asks for the answer whole again when the server did not advertise ranges', async () => {
    const file = numberedFile();
    const { source, handle, key, requests } = await breakOffAfterTwoParts(
      '/export/no-ranges.csv',
      file,
      undefined,
      { ranges: false },
    );

    expect(await handle.result()).toMatchObject({ admitted: 1, failed: 0 });
    const [packet] = await packetsOf(app, source);
    expect((await storedBytes(packet!.object_key)).equals(file)).toBe(true);
    expect(metadataOf(packet!)).not.toHaveProperty('resumedFromByte');
    expect(requests().map((r) => r.headers.range)).toEqual([undefined, undefined]);
    expect(await openUploads(key)).toEqual([]);
  }, 600_000);

  it('aborts its upload when the retry finds the file gone (404), which is not retried', async () => {
    const { source, handle, key } = await breakOffAfterTwoParts('/export/gone.csv', numberedFile(), {
      status: 404,
      contentType: 'text/plain',
      body: 'no such export',
    });

    expect(await failureType(handle)).toBe('HttpStatus');
    expect(await activityAttempts(app, handle.workflowId)).toMatchObject({ pullApiSource: 2 });
    expect(await openUploads(key)).toEqual([]);
    expect(await packetsOf(app, source)).toEqual([]);
  }, 600_000);

  it('keeps its upload through retried failures (503) and aborts it when the last attempt fails', async () => {
    const { handle, key, requests } = await breakOffAfterTwoParts('/export/busy.csv', numberedFile(), {
      status: 503,
      contentType: 'text/plain',
      body: 'try later',
    });

    // the third request is the third attempt's: the first two failed, and were retried, by then
    await eventually(async () => (requests().length >= 3 ? true : undefined), 120_000);
    expect(await openUploads(key)).toHaveLength(1);
    expect(await failureType(handle)).toBe('HttpStatus');
    // the discovery's retry policy allows five attempts
    expect(await activityAttempts(app, handle.workflowId)).toMatchObject({ pullApiSource: 5 });
    expect(await openUploads(key)).toEqual([]);
  }, 600_000);
});

/** The packet's metadata column, which the typed row leaves out. */
function metadataOf(packet: PacketRow): Record<string, unknown> {
  return (packet as PacketRow & { metadata: Record<string, unknown> }).metadata;
}

function createSha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
