// Finds the Temporal CLI (server + Web UI): TEMPORAL_CLI_PATH, then PATH, then herald's cache, then a Go build.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
/** v1.5.1 is the newest tag without replace directives, so `go install` can build it. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

export type CliSource = 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'built';

export interface ResolvedCli {
  path: string;
  source: CliSource;
}

export class TemporalCliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalCliError';
  }
}

export function heraldCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HERALD_CACHE_DIR) return path.resolve(env.HERALD_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'herald');
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findOnPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export interface ResolveOptions {
  cliPath?: string;
  env?: NodeJS.ProcessEnv;
  /** said on screen before a build, which takes minutes the first time */
  notice?: (message: string) => void;
  /** false: report what is missing instead of building */
  build?: boolean;
}

/** The binary's path, or undefined when none exists and Go is not installed (the SDK download is next). */
export async function resolveTemporalCli(opts: ResolveOptions = {}): Promise<ResolvedCli | undefined> {
  const env = opts.env ?? process.env;
  if (opts.cliPath) {
    if (!existsSync(opts.cliPath)) {
      throw new TemporalCliError(
        `TEMPORAL_CLI_PATH points at ${opts.cliPath}, which does not exist. Fix or unset it.`,
      );
    }
    if (!isExecutable(opts.cliPath)) {
      throw new TemporalCliError(
        `TEMPORAL_CLI_PATH points at ${opts.cliPath}, which is not executable (chmod +x it).`,
      );
    }
    return { path: opts.cliPath, source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = findOnPath('temporal', env.PATH);
  if (onPath) return { path: onPath, source: 'PATH' };

  const binDir = path.join(heraldCacheDir(env), 'bin');
  const cached = path.join(binDir, 'temporal');
  if (isExecutable(cached)) return { path: cached, source: 'cache' };

  const go =
    findOnPath('go', env.PATH) ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go || opts.build === false) return undefined;

  opts.notice?.(
    `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${binDir}. ` +
      'The first build takes a few minutes; later runs reuse it.',
  );
  await mkdir(binDir, { recursive: true });
  await buildWithGo(go, binDir, env);
  if (!isExecutable(cached)) {
    throw new TemporalCliError(`go install reported success but ${cached} is missing`);
  }
  return { path: cached, source: 'built' };
}

function buildWithGo(go: string, binDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    const child = spawn(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...env, GOBIN: binDir, GOFLAGS: '-mod=mod' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      tail.push(...chunk.toString().split('\n').filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - 15));
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new TemporalCliError(`could not run ${go}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) return resolve();
      reject(
        new TemporalCliError(
          `Building the Temporal CLI failed (go install exited ${code}):\n    ${tail.join('\n    ')}\n` +
            '  Check that the Go module proxy is reachable, or install the Temporal CLI yourself and set TEMPORAL_CLI_PATH.',
        ),
      );
    });
  });
}
