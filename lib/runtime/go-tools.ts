// Finds the Go-built programs herald runs (the Temporal CLI, versitygw, the Compose CLI): the variable
// naming one, then PATH, then herald's cache outside the clone, then a `go install` into that cache.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface GoTool {
  /** what a person calls it */
  title: string;
  /** the program's name on PATH and in the cache */
  binary: string;
  /** the main package `go install` builds */
  pkg: string;
  /** a version the Go module proxy serves; a tag without replace directives, so `go install` can build it */
  version: string;
  /** the variable that names an installed binary instead */
  pathVariable: string;
  /** a module of this repository that requires it, for a program whose own module `go install` refuses */
  moduleDir?: string;
}

export const GO_TOOLS = {
  temporal: {
    title: 'the Temporal CLI',
    binary: 'temporal',
    pkg: 'github.com/temporalio/cli/cmd/temporal',
    version: 'v1.5.1',
    pathVariable: 'TEMPORAL_CLI_PATH',
  },
  versitygw: {
    title: 'versitygw (the local S3 server)',
    binary: 'versitygw',
    pkg: 'github.com/versity/versitygw/cmd/versitygw',
    version: 'v1.8.0',
    pathVariable: 'VERSITYGW_PATH',
  },
  compose: {
    title: 'the Docker Compose CLI',
    binary: 'docker-compose',
    pkg: 'github.com/docker/compose/v5/cmd',
    version: 'v5.6.0',
    pathVariable: 'DOCKER_COMPOSE_PATH',
    // its go.mod has exclude directives, so it is built from tools/compose, which repeats them
    moduleDir: 'tools/compose',
  },
} as const satisfies Record<string, GoTool>;

export type GoToolSource = 'variable' | 'PATH' | 'cache' | 'built';

export interface ResolvedTool {
  path: string;
  source: GoToolSource;
}

export class GoToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoToolError';
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

export function findGo(env: NodeJS.ProcessEnv): string | undefined {
  return (
    findOnPath('go', env.PATH) ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined)
  );
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** said on screen before a build, which takes minutes the first time */
  notice?: (message: string) => void;
  /** false: report what is missing instead of building */
  build?: boolean;
}

/** The binary's path, or undefined when none exists and Go is not installed. */
export async function resolveGoTool(
  tool: GoTool,
  opts: ResolveOptions = {},
): Promise<ResolvedTool | undefined> {
  const env = opts.env ?? process.env;
  const named = env[tool.pathVariable]?.trim();
  if (named) {
    if (!existsSync(named)) {
      throw new GoToolError(
        `${tool.pathVariable} points at ${named}, which does not exist. Fix or unset it.`,
      );
    }
    if (!isExecutable(named)) {
      throw new GoToolError(
        `${tool.pathVariable} points at ${named}, which is not executable (chmod +x it).`,
      );
    }
    return { path: named, source: 'variable' };
  }
  const onPath = findOnPath(tool.binary, env.PATH);
  if (onPath) return { path: onPath, source: 'PATH' };

  const binDir = path.join(heraldCacheDir(env), 'bin');
  const cached = path.join(binDir, tool.binary);
  if (isExecutable(cached)) return { path: cached, source: 'cache' };

  const go = findGo(env);
  if (!go || opts.build === false) return undefined;

  opts.notice?.(
    `Building ${tool.title} ${tool.version} with Go into ${binDir}. ` +
      'The first build takes a few minutes; later runs reuse it.',
  );
  await mkdir(binDir, { recursive: true });
  // built apart and renamed into place, so two processes building at once never run a half-written file
  const staging = await mkdtemp(path.join(binDir, `.${tool.binary}-`));
  try {
    const built = path.join(staging, tool.binary);
    await goBuild(go, tool, built, env);
    if (!isExecutable(built)) throw new GoToolError(`go install reported success but ${built} is missing`);
    await rename(built, cached);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return { path: cached, source: 'built' };
}

/** Like resolveGoTool, but a missing binary without Go is an error saying what to do. */
export async function requireGoTool(tool: GoTool, opts: ResolveOptions = {}): Promise<ResolvedTool> {
  const found = await resolveGoTool(tool, opts);
  if (found) return found;
  throw new GoToolError(
    `${tool.title} is not installed and Go is not there to build it. Install Go (herald then builds ` +
      `${tool.pkg}@${tool.version} into ${path.join(heraldCacheDir(opts.env), 'bin')}), or set ${tool.pathVariable}.`,
  );
}

/** `go install pkg@version` into the output's directory, or `go build` inside the tool's module. */
function goBuild(go: string, tool: GoTool, output: string, env: NodeJS.ProcessEnv): Promise<void> {
  const [args, cwd, goEnv] = tool.moduleDir
    ? [['build', '-o', output, tool.pkg], path.join(PROJECT_ROOT, tool.moduleDir), {}]
    : [
        ['install', `${tool.pkg}@${tool.version}`],
        undefined,
        { GOBIN: path.dirname(output), GOFLAGS: '-mod=mod' },
      ];
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    const child = spawn(go, args, { cwd, env: { ...env, ...goEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      tail.push(...chunk.toString().split('\n').filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - 15));
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new GoToolError(`could not run ${go}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) return resolve();
      reject(
        new GoToolError(
          `Building ${tool.title} failed (go install exited ${code}):\n    ${tail.join('\n    ')}\n` +
            `  Check that the Go module proxy is reachable, or install it yourself and set ${tool.pathVariable}.`,
        ),
      );
    });
  });
}
