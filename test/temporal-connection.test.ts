// One Temporal connection config: TLS, mTLS and profiles read as the `temporal` CLI reads them, used by
// the runtime's set-up, clients and workers alike, against the dev server behind a TLS endpoint.
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { startRuntime } from '../lib/runtime';
import { connectClient, connectWorker } from '../lib/temporal';

let dir: string;
let endpoint: string;
let proxy: tls.Server;

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(into: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: into, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=herald test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  for (const [name, subject, ext] of [
    ['server', '/CN=temporal.test', 'subjectAltName=DNS:temporal.test,IP:127.0.0.1'],
    ['client', '/CN=herald-worker', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    writeFileSync(path.join(into, `${name}.ext`), ext + '\n');
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'herald-tls-'));
  makeCertificates(dir);
  const [host, port] = process.env.TEMPORAL_ADDRESS!.split(':');
  // TLS with client certificates in front of the dev server: what a TLS-enabled frontend asks of a client
  proxy = tls.createServer(
    {
      key: readFileSync(path.join(dir, 'server.key')),
      cert: readFileSync(path.join(dir, 'server.pem')),
      ca: readFileSync(path.join(dir, 'ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      const upstream = net.connect(Number(port), host);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    },
  );
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  endpoint = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve())));

const servers = () => ({
  DATABASE_URL: process.env.DATABASE_URL,
  S3_ENDPOINT: process.env.S3_ENDPOINT,
  S3_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID,
  S3_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY,
  HOME: dir,
});
const certificateVariables = () => ({
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem'),
  TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'client.pem'),
  TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'client.key'),
  TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
});

describe('the Temporal connection', () => {
  it('reaches a TLS frontend with mTLS from TEMPORAL_* variables: runtime set-up, client and worker connection', async () => {
    const config = loadConfig({ ...servers(), TEMPORAL_ADDRESS: endpoint, ...certificateVariables() });
    // the runtime's own set-up (search attributes) goes through the same TLS connection
    const runtime = await startRuntime(config, { log: createLogger({ level: 'silent', pretty: false }) });
    try {
      expect(runtime.embedded.temporal).toBe(false);
      const client = await connectClient(runtime.temporal);
      try {
        const ns = await client.workflowService.describeNamespace({ namespace: config.temporal.namespace });
        expect(ns.namespaceInfo?.name).toBe(config.temporal.namespace);
      } finally {
        await client.connection.close();
      }
      const worker = await connectWorker(runtime.temporal);
      try {
        const info = await worker.workflowService.getSystemInfo({});
        expect(info.capabilities).toBeDefined();
      } finally {
        await worker.close();
      }
    } finally {
      await runtime.stop();
    }
  });

  it('reads the same settings from a profile of a temporal.toml, as the temporal CLI does', async () => {
    const file = path.join(dir, 'temporal.toml');
    const c = certificateVariables();
    await writeFile(
      file,
      [
        '[profile.production]',
        `address = "${endpoint}"`,
        `namespace = "${process.env.TEMPORAL_NAMESPACE ?? 'default'}"`,
        '[profile.production.tls]',
        `server_ca_cert_path = "${c.TEMPORAL_TLS_SERVER_CA_CERT_PATH}"`,
        `client_cert_path = "${c.TEMPORAL_TLS_CLIENT_CERT_PATH}"`,
        `client_key_path = "${c.TEMPORAL_TLS_CLIENT_KEY_PATH}"`,
        `server_name = "temporal.test"`,
        '',
      ].join('\n'),
    );
    const config = loadConfig({ ...servers(), TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'production' });
    expect(config.temporal.address).toBe(endpoint);
    const client = await connectClient({
      ...config.temporal.connection,
      address: endpoint,
      namespace: 'default',
    });
    try {
      await client.workflowService.getSystemInfo({});
    } finally {
      await client.connection.close();
    }
  });

  it('is refused by that frontend without the client certificate, and without TLS', async () => {
    const {
      TEMPORAL_TLS_CLIENT_CERT_PATH: _c,
      TEMPORAL_TLS_CLIENT_KEY_PATH: _k,
      ...serverOnly
    } = certificateVariables();
    const noClientCert = loadConfig({ ...servers(), TEMPORAL_ADDRESS: endpoint, ...serverOnly });
    const attempt = (t: typeof noClientCert.temporal) =>
      connectWorker({ ...t.connection, address: endpoint }).then((c) => c.close());
    await expect(attempt(noClientCert.temporal)).rejects.toThrow();
    const plain = loadConfig({ ...servers(), TEMPORAL_ADDRESS: endpoint });
    await expect(attempt(plain.temporal)).rejects.toThrow();
  });

  it('names the variable when the profile cannot be used', () => {
    expect(() =>
      loadConfig({ TEMPORAL_PROFILE: 'nope', TEMPORAL_CONFIG_FILE: path.join(dir, 'temporal.toml') }),
    ).toThrow(/TEMPORAL_PROFILE cannot be used: Profile 'nope' not found/);
  });
});
