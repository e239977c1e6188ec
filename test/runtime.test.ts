import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { HeadBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Connection } from '@temporalio/client';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { SEARCH_ATTRIBUTES } from '../lib/names';
import { startRuntime } from '../lib/runtime';
import { choosePort, freePort, PortInUseError, PortTakenError } from '../lib/runtime/ports';
import { startEmbeddedPostgres } from '../lib/runtime/postgres';
import { S3_HEALTH_PATH, startLocalS3 } from '../lib/runtime/s3-server';
import { GO_TOOLS, resolveGoTool } from '../lib/runtime/go-tools';
import { ensureSearchAttributes, startTemporalDevServer } from '../lib/runtime/temporal-server';
import { startCrashablePostgres, startRestartableTemporal } from './chaos/support/servers';
import { openTestApp } from './support/harness';

let app: App;
beforeAll(async () => {
  app = await openTestApp();
});
afterAll(() => app?.close());

/** A port another program holds; it takes connections (a server's readiness probe's too) and answers none. */
function occupy(): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        close: () =>
          new Promise((r) => {
            sockets.forEach((socket) => socket.destroy());
            server.close(() => r());
          }),
      });
    });
  });
}

/** A logger that keeps what is warned (the details), and a port picker that hands out `taken` at the picks `takenAt` lists. */
function pickWatch(taken: number, takenAt: (pick: number) => boolean) {
  const watch = { picks: 0, warnings: [] as unknown[] };
  const log = createLogger({ level: 'silent', pretty: false });
  log.warn = ((details: unknown) => void watch.warnings.push(details)) as typeof log.warn;
  const pick = () => (takenAt(watch.picks++) ? Promise.resolve(taken) : freePort());
  return { watch, log, pick };
}

async function scratchDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-ports-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Postgres at `url` answers a query. */
async function expectAnswers(url: string): Promise<void> {
  const sql = postgres(url, { max: 1 });
  try {
    const [row] = await sql<{ one: number }[]>`select 1 as one`;
    expect(row!.one).toBe(1);
  } finally {
    await sql.end();
  }
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

  it('stops a Temporal dev server that a signal already ended, without waiting for an exit that came', async () => {
    const cli = await resolveGoTool(GO_TOOLS.temporal, { env: process.env, notice: () => {} });
    const server = await startTemporalDevServer({
      cliPath: cli!.path,
      namespace: 'default',
      port: 0,
      uiPort: 0,
      log: createLogger({ level: 'silent', pretty: false }),
    });
    process.kill(server.pid!, 'SIGKILL');
    // gone from the process table: this process has reaped it and seen its exit
    await expect.poll(() => existsSync(`/proc/${server.pid}`), { timeout: 10_000 }).toBe(false);
    const outcome = await Promise.race([
      server.stop().then(() => 'stopped'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000)),
    ]);
    expect(outcome).toBe('stopped');
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

  it('starts the embedded Postgres again on another port when the one it picked was taken before it bound it', async () => {
    const taken = await occupy();
    // the first pick is a port another program took between the pick and the server's bind
    const { watch, log, pick } = pickWatch(taken.port, (n) => n === 0);
    const scratch = await scratchDir();
    try {
      const server = await startEmbeddedPostgres({
        dataDir: scratch.dir,
        port: 0,
        fast: true,
        log,
        freePort: pick,
      });
      try {
        await expectAnswers(server.url);
      } finally {
        await server.stop();
      }
      expect(watch).toEqual({ picks: 2, warnings: [{ port: taken.port }] });
    } finally {
      await taken.close();
      await scratch.remove();
    }
  });

  it('starts the local S3 server again on another port when the one it picked was taken before it bound it', async () => {
    const taken = await occupy();
    const { watch, log, pick } = pickWatch(taken.port, (n) => n === 0);
    const scratch = await scratchDir();
    try {
      const server = await startLocalS3({ directory: scratch.dir, port: 0, log, freePort: pick });
      try {
        expect((await fetch(server.endpoint + S3_HEALTH_PATH)).ok).toBe(true);
      } finally {
        await server.stop();
      }
      expect(server.endpoint).not.toContain(`:${taken.port}`);
      expect(watch).toEqual({ picks: 2, warnings: [{ port: taken.port }] });
    } finally {
      await taken.close();
      await scratch.remove();
    }
  });

  it('gives up after three starts when every port picked is taken, saying so', async () => {
    const taken = await occupy();
    const { watch, log, pick } = pickWatch(taken.port, () => true);
    const scratch = await scratchDir();
    try {
      const started = startLocalS3({ directory: scratch.dir, port: 0, log, freePort: pick });
      await expect(started).rejects.toThrow(PortInUseError);
      await expect(started).rejects.toThrow('address already in use');
      expect(watch).toEqual({ picks: 3, warnings: [{ port: taken.port }, { port: taken.port }] });
    } finally {
      await taken.close();
      await scratch.remove();
    }
  });

  it('never replaces a configured Postgres or S3 port that is taken', async () => {
    const taken = await occupy();
    const { watch, log, pick } = pickWatch(taken.port, () => false);
    const scratch = await scratchDir();
    try {
      await expect(
        startEmbeddedPostgres({ dataDir: scratch.dir, port: taken.port, log, freePort: pick }),
      ).rejects.toThrow(/EMBEDDED_POSTGRES_PORT/);
      await expect(
        startLocalS3({ directory: scratch.dir, port: taken.port, log, freePort: pick }),
      ).rejects.toThrow(/EMBEDDED_S3_PORT/);
      expect(watch).toEqual({ picks: 0, warnings: [] });
    } finally {
      await taken.close();
      await scratch.remove();
    }
  });
});

describe("the fault suite's servers", () => {
  it('start Postgres on another port when the first one picked was taken, and bring it back there after a crash', async () => {
    const taken = await occupy();
    // the first pick is a port another program took between the pick and the server's bind
    const { watch, log, pick } = pickWatch(taken.port, (n) => n === 0);
    const scratch = await scratchDir();
    // Postgres runs as its own user when we are root: it must reach its data directory inside this one
    await chmod(scratch.dir, 0o755);
    try {
      const server = await startCrashablePostgres(scratch.dir, log, { freePort: pick });
      try {
        expect(server.url).not.toContain(`:${taken.port}/`);
        await server.crash();
        await server.start();
        await expectAnswers(server.url);
      } finally {
        await server.stop();
      }
      expect(watch).toEqual({ picks: 2, warnings: [{ port: taken.port }] });
    } finally {
      await taken.close();
      await scratch.remove();
    }
  });

  it('start Temporal on other ports when the first one picked was taken, and restart it on the port it got', async () => {
    const taken = await occupy();
    const { watch, log, pick } = pickWatch(taken.port, (n) => n === 0);
    const scratch = await scratchDir();
    try {
      const server = await startRestartableTemporal(scratch.dir, 'default', log, { freePort: pick });
      try {
        expect(server.address).not.toBe(`127.0.0.1:${taken.port}`);
        await server.restart();
        const connection = await Connection.connect({ address: server.address });
        try {
          await connection.workflowService.describeNamespace({ namespace: 'default' });
        } finally {
          await connection.close();
        }
      } finally {
        await server.stop();
      }
      expect(watch.warnings).toEqual([{ port: taken.port }]);
    } finally {
      await taken.close();
      await scratch.remove();
    }
  });
});
