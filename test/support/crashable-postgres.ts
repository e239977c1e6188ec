// A Postgres of a test's own that can crash (immediate stop: no shutdown checkpoint, so crash recovery
// empties unlogged tables) and come back on the same port with the same data.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { Logger } from '../../lib/log';
import { startEmbeddedPostgres, type RunningPostgres } from '../../lib/runtime/postgres';

export interface CrashablePostgres {
  url: string;
  /** SIGQUIT to the postmaster, as `pg_ctl stop -m immediate` sends; resolves once it has exited */
  crash(): Promise<void>;
  /** starts it again on the same port and data directory; resolves once it accepts connections */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCrashablePostgres(log: Logger): Promise<CrashablePostgres> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'herald-crashable-'));
  let server: RunningPostgres = await startEmbeddedPostgres({ dataDir, port: 0, log });
  const url = server.url;
  const port = Number(new URL(url).port);
  // Commits are durable here, as on a production server: the embedded default (synchronous_commit
  // off) may lose the last commits in a crash, which is not the failure these tests are about.
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin`alter database herald set synchronous_commit = on`;
  await admin.end();
  let running = true;
  return {
    url,
    async crash() {
      if (!running) return;
      process.kill(server.pid!, 'SIGQUIT');
      await server.stop();
      running = false;
    },
    async restart() {
      if (running) return;
      server = await startEmbeddedPostgres({ dataDir, port, log });
      running = true;
    },
    async stop() {
      await server.stop();
      running = false;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
