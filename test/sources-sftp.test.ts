import { mkdir, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { sshFingerprint } from '../lib/sources/sftp';
import { ed25519KeyPair, otherHostKeyBlob, startSftpStandin, type SftpStandin } from './standins/sftp';
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
} from './support/sources';

let app: App;
let worker: TestWorker;
let company: TestCompany;
let server: SftpStandin;
let root: string;
const userKey = ed25519KeyPair();

const day = daysFromNow(8);
const march = csv(EHR_HEADER, [
  ['F1', 'ROBERT', 'CHEN', '(617) 555-0111', '', '', day, '8:00 AM', 'FA1', '', '', '', '02111', 'MA', ''],
]);
const april = csv(EHR_HEADER, [
  [
    'F2',
    'grace',
    'lee',
    '(617) 555-0156',
    '',
    'grace@example.com',
    day,
    '3:30 PM',
    'FA2',
    '',
    '',
    '',
    '02135',
    'MA',
    '',
  ],
]);

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'herald-sftp-'));
  await mkdir(path.join(root, 'outbound'));
  await writeFile(path.join(root, 'outbound', 'appts-2027-03.csv'), march);
  await writeFile(path.join(root, 'outbound', 'appts-2027-04.csv'), april);
  await writeFile(path.join(root, 'outbound', 'summary.pdf'), '%PDF-1.4 not data');
  await mkdir(path.join(root, 'flaky'));
  await writeFile(path.join(root, 'flaky', 'appts-ok.csv'), march);
  await writeFile(path.join(root, 'flaky', 'appts-gone.csv'), april);
  server = await startSftpStandin({
    root,
    username: 'acme',
    password: 'correct horse battery staple',
    authorizedKey: userKey.public,
    vanishing: ['appts-gone.csv'],
  });
  // the worker reads secrets from its own environment: this process
  process.env.HERALD_SECRET_TEST_SFTP_PASSWORD = 'correct horse battery staple';
  process.env.HERALD_SECRET_TEST_SFTP_KEY = userKey.private;
  process.env.HERALD_SECRET_TEST_SFTP_WRONG = 'not the password';
  app = await openTestApp();
  worker = await startTestWorker(app);
  company = await createTestCompany(app, { prefix: 'sftp' });
});
afterAll(async () => {
  await worker?.stop();
  await app?.close();
  await server?.close();
});

const sftpConfig = (overrides: Record<string, unknown> = {}) => ({
  host: server.host,
  port: server.port,
  username: 'acme',
  passwordEnv: 'HERALD_SECRET_TEST_SFTP_PASSWORD',
  hostKeySha256: server.fingerprint,
  directory: '/outbound',
  glob: 'appts-*.csv',
  ...overrides,
});

describe('an SFTP source', () => {
  it('logs in with a password, copies the files matching its glob into raw/, and takes each file once', async () => {
    const source = await addTestSource(app, company.alias, {
      kind: 'sftp',
      config: sftpConfig(),
      loadMap: 'ehr',
    });
    const first = await runDiscovery(app, source, worker.taskQueue);
    expect(first.error).toBeUndefined();
    // summary.pdf is listed but not taken: it does not match the glob
    expect(first.totals).toMatchObject({ listed: 3, admitted: 2, skipped: 1, failed: 0 });
    // copied in parallel: packet order is not file order
    const packets = (await ingestsFinished(app, source, 2)).sort((a, b) =>
      a.original_name!.localeCompare(b.original_name!),
    );
    expect(packets.map((p) => p.original_name)).toEqual(['appts-2027-03.csv', 'appts-2027-04.csv']);
    for (const [packet, body] of [
      [packets[0]!, march],
      [packets[1]!, april],
    ] as const) {
      expect(packet.object_key.startsWith(`raw/${company.alias}/${source.name}/`)).toBe(true);
      const object = await app.s3.send(new GetObjectCommand({ Bucket: app.bucket, Key: packet.object_key }));
      expect(await object.Body!.transformToString()).toBe(body);
      expect(packet).toMatchObject({ stage: 'done', rows_loaded: 1, size_bytes: Buffer.byteLength(body) });
      expect(packet.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    expect(server.log.logins.at(-1)).toBe('acme:password');

    const opened = server.log.opened.length;
    const again = await runDiscovery(app, source, worker.taskQueue);
    expect(again.totals).toMatchObject({ listed: 3, admitted: 0, skipped: 3 });
    expect(server.log.opened.length).toBe(opened);
    expect(await packetsOf(app, source)).toHaveLength(2);
    expect(await historyText(app, first.workflowId, first.runId)).not.toContain('CHEN');
  });

  it('logs in with a private key from an environment variable', async () => {
    const source = await addTestSource(app, company.alias, {
      kind: 'sftp',
      config: sftpConfig({
        passwordEnv: undefined,
        privateKeyEnv: 'HERALD_SECRET_TEST_SFTP_KEY',
        glob: '*-03.csv',
      }),
      loadMap: 'ehr',
    });
    const run = await runDiscovery(app, source, worker.taskQueue);
    expect(run.totals).toMatchObject({ listed: 3, admitted: 1 });
    expect(server.log.logins.at(-1)).toBe('acme:publickey');
  });

  it('refuses a server presenting another host key before sending credentials, naming both fingerprints, and writes nothing', async () => {
    const impostor = sshFingerprint(otherHostKeyBlob());
    const source = await addTestSource(app, company.alias, {
      kind: 'sftp',
      config: sftpConfig({ hostKeySha256: impostor }),
      loadMap: 'ehr',
    });
    const logins = server.log.logins.length;
    const run = await runDiscovery(app, source, worker.taskQueue);
    expect(run.error?.type).toBe('HostKeyMismatch');
    expect(run.error?.message).toContain(`presented host key ${server.fingerprint}`);
    expect(run.error?.message).toContain(`expects ${impostor}`);
    expect(server.log.logins.length).toBe(logins);
    expect(await packetsOf(app, source)).toEqual([]);
    expect(await keysUnder(app, `raw/${company.alias}/${source.name}/`)).toEqual([]);
  });

  it('refuses wrong credentials without retrying', async () => {
    const source = await addTestSource(app, company.alias, {
      kind: 'sftp',
      config: sftpConfig({ passwordEnv: 'HERALD_SECRET_TEST_SFTP_WRONG' }),
      loadMap: 'ehr',
    });
    const run = await runDiscovery(app, source, worker.taskQueue);
    expect(run.error).toMatchObject({
      type: 'SftpAuthentication',
      message: expect.stringContaining('acme@127.0.0.1'),
    });
    expect(await activityAttempts(app, run.workflowId)).toEqual({ describeSource: 1, listNewSftpFiles: 1 });
    expect(await packetsOf(app, source)).toEqual([]);
  });

  it('takes in the files that are there when one vanished after the listing, and names the missing one', async () => {
    const source = await addTestSource(app, company.alias, {
      kind: 'sftp',
      config: sftpConfig({ directory: '/flaky', glob: '*.csv' }),
      loadMap: 'ehr',
    });
    const run = await runDiscovery(app, source, worker.taskQueue);
    expect(run.error?.type).toBe('DiscoveryIncomplete');
    expect(run.error?.message).toContain(
      '/flaky/appts-gone.csv: the SFTP file /flaky/appts-gone.csv is no longer on the server',
    );
    expect(run.error?.totals).toMatchObject({ admitted: 1, failed: 1 });
    const packets = await ingestsFinished(app, source, 1);
    expect(packets[0]!.original_name).toBe('appts-ok.csv');
  });

  it('pages through a directory of more than a thousand files, a bounded page per listing, continuing as new', async () => {
    // 1,002 files, oldest first: the first and last CSV fall on different listing pages of 1,000
    const dir = path.join(root, 'many');
    await mkdir(dir);
    const now = Date.now() / 1000;
    await writeFile(path.join(dir, 'a-first.csv'), march);
    await utimes(path.join(dir, 'a-first.csv'), now - 3600, now - 3600);
    for (let i = 0; i < 1000; i += 1) {
      const file = path.join(dir, `archive-${String(i).padStart(4, '0')}.bak`);
      await writeFile(file, 'x');
      await utimes(file, now - 1800, now - 1800);
    }
    await writeFile(path.join(dir, 'z-last.csv'), april);
    const source = await addTestSource(app, company.alias, {
      kind: 'sftp',
      config: sftpConfig({ directory: '/many', glob: '*.csv' }),
      loadMap: 'ehr',
    });

    const { totals, runs, workflowId, firstRunId } = await discoverOnePagePerRun(
      app,
      source,
      worker.taskQueue,
    );
    expect(totals).toMatchObject({ listed: 1002, admitted: 2, skipped: 1000, failed: 0 });
    expect(runs).toEqual(['COMPLETED', 'CONTINUED_AS_NEW']);
    // the first run listed one full page and handed the rest to the run it continued as new into
    const firstRun = await (await app.client()).workflow.getHandle(workflowId, firstRunId).fetchHistory();
    const pages = (firstRun.events ?? [])
      .map((e) => e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data)
      .filter((data): data is Uint8Array => data != null)
      .map(
        (data) =>
          JSON.parse(Buffer.from(data).toString()) as {
            listed?: number;
            objects?: { name: string }[];
            nextToken?: string;
          },
      )
      .filter((r) => r.listed !== undefined);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({
      listed: 1000,
      objects: [{ name: 'a-first.csv' }],
      nextToken: expect.stringMatching(/\/archive-0998\.bak$/),
    });
    const packets = await ingestsFinished(app, source, 2);
    expect(packets.map((p) => p.original_name).sort()).toEqual(['a-first.csv', 'z-last.csv']);
  });

  it('says which environment variable is missing', async () => {
    const source = await addTestSource(app, company.alias, {
      kind: 'sftp',
      config: sftpConfig({ passwordEnv: 'HERALD_SECRET_TEST_UNSET_SECRET' }),
      loadMap: 'ehr',
    });
    const run = await runDiscovery(app, source, worker.taskQueue);
    expect(run.error).toMatchObject({
      type: 'MissingSecret',
      message:
        'the environment variable HERALD_SECRET_TEST_UNSET_SECRET (the SFTP password) is not set on this worker',
    });
  });
});
