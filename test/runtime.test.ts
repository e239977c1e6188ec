import net from 'node:net';
import { HeadBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { SEARCH_ATTRIBUTES } from '../lib/names';
import { startRuntime } from '../lib/runtime';
import { choosePort, freePort, PortTakenError } from '../lib/runtime/ports';
import { GO_TOOLS, resolveGoTool } from '../lib/runtime/go-tools';
import { ensureSearchAttributes, startTemporalDevServer } from '../lib/runtime/temporal-server';
import { openTestApp } from './support/harness';

let app: App;
beforeAll(async () => {
  app = await openTestApp();
});
afterAll(() => app?.close());

function occupy(): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({ port, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

describe('the embedded runtime', () => {
  it('registers every herald search attribute as Keyword, and doing it again changes nothing', async () => {
    const connection = await Connection.connect({ address: app.temporal.address });
    try {
      const listed = await connection.operatorService.listSearchAttributes({
        namespace: app.temporal.namespace,
      });
      for (const name of Object.values(SEARCH_ATTRIBUTES)) {
        // 2 = INDEXED_VALUE_TYPE_KEYWORD
        expect(listed.customAttributes?.[name]).toBe(2);
      }
      expect(await ensureSearchAttributes(connection, app.temporal.namespace)).toEqual([]);
    } finally {
      await connection.close();
    }
  });

  it('created the S3 bucket on the local S3 server', async () => {
    const head = await app.s3.send(new HeadBucketCommand({ Bucket: app.bucket }));
    expect(head.$metadata.httpStatusCode).toBe(200);
  });

  it('lists objects page by page (continuation tokens) on the local S3 server', async () => {
    const prefix = `test/pages-${Date.now()}/`;
    for (let i = 0; i < 5; i++) {
      await app.s3.send(
        new PutObjectCommand({ Bucket: app.bucket, Key: `${prefix}${i}.csv`, Body: `row ${i}` }),
      );
    }
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await app.s3.send(
        new ListObjectsV2Command({
          Bucket: app.bucket,
          Prefix: prefix,
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(keys).toEqual([0, 1, 2, 3, 4].map((i) => `${prefix}${i}.csv`));
  });

  it('serves real Postgres', async () => {
    const [row] = await app.sql<{ version: string }[]>`select version()`;
    expect(row!.version).toMatch(/^PostgreSQL \d+/);
  });

  it('explains a taken port and names the variable to change', async () => {
    const taken = await occupy();
    try {
      await expect(choosePort(taken.port, 'the Temporal Web UI', 'TEMPORAL_UI_PORT')).rejects.toThrow(
        PortTakenError,
      );
      await expect(choosePort(taken.port, 'the Temporal Web UI', 'TEMPORAL_UI_PORT')).rejects.toThrow(
        `Port ${taken.port} for the Temporal Web UI is already taken by another program. Stop that program, or set TEMPORAL_UI_PORT`,
      );
    } finally {
      await taken.close();
    }
  });

  it('starts the Temporal dev server again on other ports when one it picked was taken before it bound it', async () => {
    const cli = await resolveGoTool(GO_TOOLS.temporal, { env: process.env, notice: () => {} });
    const taken = await occupy();
    // the first pick is a port another program took between the pick and the server's bind
    let picks = 0;
    const pick = () => (picks++ === 2 ? Promise.resolve(taken.port) : freePort());
    const warnings: unknown[] = [];
    const log = createLogger({ level: 'silent', pretty: false });
    log.warn = ((details: unknown) => void warnings.push(details)) as typeof log.warn;
    try {
      const server = await startTemporalDevServer({
        cliPath: cli!.path,
        namespace: 'default',
        port: 0,
        uiPort: 0,
        log,
        freePort: pick,
      });
      try {
        const connection = await Connection.connect({ address: server.address });
        await connection.close();
      } finally {
        await server.stop();
      }
      expect(warnings).toEqual([{ port: taken.port }]);
      expect(picks).toBe(8);
    } finally {
      await taken.close();
    }
  });

  it('refuses to start the Temporal UI on a taken port, and leaves nothing running', async () => {
    const taken = await occupy();
    try {
      const config = loadConfig({
        DATABASE_URL: process.env.DATABASE_URL,
        S3_ENDPOINT: process.env.S3_ENDPOINT,
        S3_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID,
        S3_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY,
        TEMPORAL_UI_PORT: String(taken.port),
        HERALD_DATA_DIR: '/tmp/herald-port-test',
      });
      await expect(
        startRuntime(config, { log: createLogger({ level: 'silent', pretty: false }), embedded: true }),
      ).rejects.toThrow(/TEMPORAL_UI_PORT/);
    } finally {
      await taken.close();
    }
  });
});
