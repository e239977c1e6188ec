// Runs a local S3-compatible server (s3rver) on loopback when no S3_ENDPOINT is given.
import { fork } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { choosePort } from './ports';

export const EMBEDDED_S3_ACCESS_KEY = 'S3RVER';
export const EMBEDDED_S3_SECRET_KEY = 'S3RVER';

export interface RunningS3 {
  endpoint: string;
  pid?: number;
  stop(): Promise<void>;
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3rver-child.cjs');

export async function startLocalS3(opts: { directory: string; port: number }): Promise<RunningS3> {
  const port = await choosePort(opts.port, 'the local S3 server', 'EMBEDDED_S3_PORT');
  await mkdir(opts.directory, { recursive: true });
  const child = fork(CHILD, [opts.directory, String(port)], {
    execArgv: ['--openssl-legacy-provider', '--no-deprecation'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let errors = '';
  child.stderr?.on('data', (c: Buffer) => (errors += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      if (c.toString().startsWith('READY')) resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`The local S3 server exited with code ${code}: ${errors.trim()}`)),
    );
    child.once('error', reject);
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
