import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { startHttpFeed, type HttpFeed } from './standins/http-feed';
import { openTestApp, startTestWorker, type TestWorker } from './support/harness';
import { createTestCompany, csv, daysFromNow, EHR_HEADER, type TestCompany } from './support/ingest';
import {
  activityAttempts,
  addTestSource,
  ingestsFinished,
  keysUnder,
  packetsOf,
  runDiscovery,
} from './support/sources';

let app: App;
let worker: TestWorker;
let company: TestCompany;
let feed: HttpFeed;

const day = daysFromNow(10);
const row = (id: string, first: string, last: string, phone: string) => ({
  'Patient ID': id,
  'First Name': first,
  'Last Name': last,
  'Cell Phone': phone,
  'Appt Date': day,
  'Appt Time': '10:00 AM',
  'Appointment ID': `A-${id}`,
  State: 'MA',
});
const today = csv(EHR_HEADER, [
  ['H1', 'MARIA', 'GONZALEZ', '(617) 555-0142', '', '', day, '9:30 AM', 'HA1', '', '', '', '02110', 'MA', ''],
]);

beforeAll(async () => {
  process.env.HERALD_SECRET_TEST_API_TOKEN = 's3cr3t-token';
  app = await openTestApp();
  worker = await startTestWorker(app);
  company = await createTestCompany(app, { prefix: 'api' });
  feed = await startHttpFeed();
});
afterAll(async () => {
  await feed?.close();
  await worker?.stop();
  await app?.close();
});

const apiSource = (
  pathname: string,
  format: 'csv' | 'json' | 'ndjson',
  extra: Record<string, unknown> = {},
) =>
  addTestSource(app, company.alias, {
    kind: 'api',
    config: {
      url: `${feed.url}${pathname}`,
      format,
      headers: {
        Authorization: { env: 'HERALD_SECRET_TEST_API_TOKEN', prefix: 'Bearer ' },
        Accept: 'text/csv',
      },
      ...extra,
    },
    loadMap: 'ehr',
  });

describe('an HTTPS API source', () => {
  it('sends the secret header from the environment, stores the answer in raw/, and takes the same content once', async () => {
    feed.routes.set('/export/appointments', { contentType: 'text/csv; charset=utf-8', body: today });
    const source = await apiSource('/export/appointments', 'csv');
    const stored = await app.sql<
      { config: unknown }[]
    >`select config from data_ingest_sources where id = ${source.id}`;
    expect(JSON.stringify(stored[0]!.config)).not.toContain('s3cr3t');

    const first = await runDiscovery(app, source, worker.taskQueue);
    expect(first.totals).toMatchObject({ listed: 1, admitted: 1, failed: 0 });
    expect(feed.requests.at(-1)!.headers).toMatchObject({
      authorization: 'Bearer s3cr3t-token',
      accept: 'text/csv',
    });
    const [packet] = await ingestsFinished(app, source, 1);
    expect(packet).toMatchObject({ stage: 'done', rows_loaded: 1, content_type: 'text/csv' });
    const object = await app.s3.send(new GetObjectCommand({ Bucket: app.bucket, Key: packet!.object_key }));
    expect(await object.Body!.transformToString()).toBe(today);

    // the same answer again: no new packet, and its second copy is not kept
    const again = await runDiscovery(app, source, worker.taskQueue);
    expect(again.totals).toMatchObject({ admitted: 0, skipped: 1 });
    expect(await packetsOf(app, source)).toHaveLength(1);
    expect(await keysUnder(app, `raw/${company.alias}/${source.name}/`)).toEqual([packet!.object_key]);

    // new content is a new packet
    feed.routes.set('/export/appointments', {
      contentType: 'text/csv',
      body: today.replace('GONZALEZ', 'GONZALES'),
    });
    expect((await runDiscovery(app, source, worker.taskQueue)).totals).toMatchObject({ admitted: 1 });
    expect(await ingestsFinished(app, source, 2)).toHaveLength(2);
  });

  it('reads a JSON array and NDJSON, secrets in the query string by reference too', async () => {
    process.env.HERALD_SECRET_TEST_API_KEY = 'k-123';
    feed.routes.set('/v2/appointments.json', {
      contentType: 'application/json',
      body: JSON.stringify([row('J1', 'ANN', 'LEE', '6175550101'), row('J2', 'Bo', 'Kim', '6175550102')]),
    });
    feed.routes.set('/v2/appointments.ndjson', {
      contentType: 'application/x-ndjson',
      body:
        [row('N1', 'Cy', 'Ray', '6175550103'), row('N2', 'Di', 'Fox', '6175550104')]
          .map((r) => JSON.stringify(r))
          .join('\n') + '\n',
    });
    const json = await apiSource('/v2/appointments.json', 'json', {
      query: { api_key: { env: 'HERALD_SECRET_TEST_API_KEY' }, since: '2027-01-01' },
    });
    const ndjson = await apiSource('/v2/appointments.ndjson', 'ndjson');
    expect((await runDiscovery(app, json, worker.taskQueue)).totals).toMatchObject({ admitted: 1 });
    expect(feed.requests.at(-1)!.path).toBe('/v2/appointments.json?since=2027-01-01&api_key=k-123');
    expect((await runDiscovery(app, ndjson, worker.taskQueue)).totals).toMatchObject({ admitted: 1 });
    const [jsonPacket] = await ingestsFinished(app, json, 1);
    const [ndjsonPacket] = await ingestsFinished(app, ndjson, 1);
    expect(jsonPacket).toMatchObject({ stage: 'done', rows_read: 2, rows_loaded: 2 });
    expect(ndjsonPacket).toMatchObject({ stage: 'done', rows_read: 2, rows_loaded: 2 });
    expect(jsonPacket!.object_key).toMatch(/\.json$/);
    expect(ndjsonPacket!.object_key).toMatch(/\.ndjson$/);
  });

  it('retries a server error and succeeds when the server recovers', async () => {
    feed.routes.set('/flaky', [
      { status: 500, contentType: 'text/plain', body: 'upstream timeout' },
      { status: 503, contentType: 'text/plain', body: 'busy' },
      { contentType: 'text/csv', body: today.replace('H1', 'H9').replace('HA1', 'HA9') },
    ]);
    const source = await apiSource('/flaky', 'csv');
    const run = await runDiscovery(app, source, worker.taskQueue);
    expect(run.totals).toMatchObject({ admitted: 1, failed: 0 });
    expect((await activityAttempts(app, run.workflowId)).pullApiSource).toBe(3);
  });

  it.each([
    [
      'a 404',
      '/gone',
      { status: 404, contentType: 'text/plain', body: 'no such export' },
      'HttpStatus',
      'answered 404 Not Found',
    ],
    [
      'an HTML page where CSV was expected',
      '/login',
      { contentType: 'text/html', body: '<html>Sign in</html>' },
      'WrongContentType',
      'sent text/html, but the source expects csv (an HTML page is often a login or error page)',
    ],
    [
      'an empty answer',
      '/empty',
      { contentType: 'text/csv', body: '' },
      'EmptyResponse',
      'answered with no content',
    ],
  ])('refuses %s at once, and writes nothing', async (_what, pathname, answer, type, message) => {
    feed.routes.set(pathname, answer);
    const source = await apiSource(pathname, 'csv');
    const run = await runDiscovery(app, source, worker.taskQueue);
    expect(run.error?.type).toBe(type);
    expect(run.error?.message).toContain(message);
    expect(await activityAttempts(app, run.workflowId)).toMatchObject({ pullApiSource: 1 });
    expect(await packetsOf(app, source)).toEqual([]);
    expect(await keysUnder(app, `raw/${company.alias}/${source.name}/`)).toEqual([]);
  });

  it('follows a redirect to another host only when the source lists it, and never sends it the secret header', async () => {
    const port = new URL(feed.url).port;
    feed.routes.set('/moved.csv', {
      status: 302,
      location: `http://localhost:${port}/moved/here.csv`,
      body: '',
    });
    feed.routes.set('/moved/here.csv', {
      contentType: 'text/csv',
      body: today.replace('H1', 'R1').replace('HA1', 'RA1'),
    });
    const refused = await runDiscovery(app, await apiSource('/moved.csv', 'csv'), worker.taskQueue);
    expect(refused.error).toMatchObject({ type: 'RedirectRefused' });
    const asked = feed.requests.length;
    const listed = await apiSource('/moved.csv', 'csv', { redirectHosts: ['localhost'] });
    expect((await runDiscovery(app, listed, worker.taskQueue)).totals).toMatchObject({ admitted: 1 });
    const followed = feed.requests.slice(asked).find((r) => r.path === '/moved/here.csv');
    expect(followed?.headers.authorization).toBeUndefined();
  });

  it('trusts a private certificate authority named by the source', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const secure = await startHttpFeed({
      key: await readFile(key, 'utf8'),
      cert: await readFile(cert, 'utf8'),
    });
    try {
      secure.routes.set('/export.csv', {
        contentType: 'text/csv',
        body: today.replace('H1', 'T1').replace('HA1', 'TA1'),
      });
      const config = { url: `${secure.url}/export.csv`, format: 'csv' as const };
      const untrusted = await addTestSource(app, company.alias, { kind: 'api', config, loadMap: 'ehr' });
      const refused = await runDiscovery(app, untrusted, worker.taskQueue);
      expect(refused.error).toMatchObject({
        type: 'TlsCertificate',
        message: expect.stringContaining('set caFile on the source'),
      });
      const trusted = await addTestSource(app, company.alias, {
        kind: 'api',
        config: { ...config, caFile: cert },
        loadMap: 'ehr',
      });
      expect((await runDiscovery(app, trusted, worker.taskQueue)).totals).toMatchObject({ admitted: 1 });
    } finally {
      await secure.close();
    }
  });
});
