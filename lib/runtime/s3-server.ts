// Runs versitygw (an S3-compatible gateway, posix backend) on loopback when no S3_ENDPOINT is given.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log';
import { GO_TOOLS, requireGoTool } from './go-tools';
import { choosePort, freePort, PortInUseError, portInUseByGoOutput, startOnPickedPorts } from './ports';
import { stopChild } from './stop-child';

/** The embedded server's root user; it listens on loopback only. */
export const EMBEDDED_S3_ACCESS_KEY = 'herald-local';
export const EMBEDDED_S3_SECRET_KEY = 'herald-local-secret';
/** versitygw answers GET here without a signature once it serves. */
export const S3_HEALTH_PATH = '/health';

export interface RunningS3 {
  endpoint: string;
  pid?: number;
  stop(): Promise<void>;
}

export async function startLocalS3(opts: {
  directory: string;
  port: number;
  log: Logger;
  notice?: (message: string) => void;
  /** picks a free port when none is given; a test hands out a taken one */
  freePort?: () => Promise<number>;
}): Promise<RunningS3> {
  const binary = await requireGoTool(GO_TOOLS.versitygw, { notice: opts.notice });
  const buckets = path.join(opts.directory, 'buckets');
  const metadata = path.join(opts.directory, 'metadata');
  await Promise.all([mkdir(buckets, { recursive: true }), mkdir(metadata, { recursive: true })]);
  const pick = opts.freePort ?? freePort;
  return startOnPickedPorts({
    what: 'the local S3 server',
    log: opts.log,
    configured: [opts.port],
    ports: () =>
      opts.port === 0 ? pick() : choosePort(opts.port, 'the local S3 server', 'EMBEDDED_S3_PORT'),
    start: (port) => serve({ binary: binary.path, port, buckets, metadata, log: opts.log }),
  });
}

/** Runs versitygw on `port` until its health check answers. */
async function serve(opts: {
  binary: string;
  port: number;
  buckets: string;
  metadata: string;
  log: Logger;
}): Promise<RunningS3> {
  const { binary, port, buckets, metadata } = opts;
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(
    binary,
    [
      '--port',
      `127.0.0.1:${port}`,
      '--health',
      S3_HEALTH_PATH,
      '--quiet',
      // objects' metadata (content type, user metadata, ETags) in a sidecar tree: no dependence on the
      // filesystem's extended attributes, which tmpfs and some container filesystems lack
      'posix',
      '--sidecar',
      metadata,
      buckets,
    ],
    {
      env: {
        ...process.env,
        ROOT_ACCESS_KEY: EMBEDDED_S3_ACCESS_KEY,
        ROOT_SECRET_KEY: EMBEDDED_S3_SECRET_KEY,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`Could not run ${binary}: ${err.message}`)));
    // 'close': after its output is read, which says whether its port was taken
    child.once('close', (code) => {
      const message = `The local S3 server exited with code ${code}:\n    ${lines.join('\n    ')}`;
      const taken = portInUseByGoOutput(lines.join('\n'));
      reject(taken ? new PortInUseError(taken, message) : new Error(message));
    });
  });
  exited.catch(() => {});
  // once it has exited, nothing more is asked of its port (which may be another program's)
  const ended = new AbortController();
  child.once('close', () => ended.abort());
  await Promise.race([waitUntilHealthy(endpoint, () => lines.join('\n'), ended.signal), exited]).catch(
    (err) => {
      child.kill('SIGKILL');
      throw err;
    },
  );
  opts.log.debug({ endpoint, binary }, 'local S3 server is serving');
  return {
    endpoint,
    pid: child.pid,
    stop: () => stopChild(child, 'SIGTERM', 10_000),
  };
}

async function waitUntilHealthy(endpoint: string, output: () => string, ended: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  let lastError: unknown;
  while (Date.now() < deadline && !ended.aborted) {
    try {
      const res = await fetch(endpoint + S3_HEALTH_PATH, {
        signal: AbortSignal.any([AbortSignal.timeout(2_000), ended]),
      });
      if (res.ok) return;
      lastError = new Error(`health answered ${res.status}`);
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // it exited: the race reports why, from its exit
  if (ended.aborted) throw new Error('the local S3 server exited');
  throw new Error(
    `The local S3 server did not answer at ${endpoint} within 30 s: ${String(lastError)}\n${output()}`,
  );
}
