// The real worker process (workers/main.ts) for benchmarks, configured like production to send SMS through the Twilio stand-in.
import { spawn, type ChildProcess } from 'node:child_process';
import type { App } from '../lib/app';
import type { TwilioStandinProcess } from '../test/standins/twilio-process';

export const BENCH_SENDER = '+18005550100';

/**
 * Starts a worker on `queues` (the configured default when unset), sending at `cap` a second; resolves once it runs.
 * `nodeArgs` and `env` are added to node's flags and the worker's environment (a deployment's heap caps, its
 * WORKER_SEND_ACCOUNTS).
 */
export async function startSendingWorker(
  app: App,
  twilio: TwilioStandinProcess,
  opts: {
    cap: number;
    batchSize: number;
    queues?: string[];
    nodeArgs?: string[];
    env?: Record<string, string>;
  },
): Promise<ChildProcess> {
  // BENCH_PROFILE_DIR: the worker writes a CPU profile there when it exits
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const child = spawn(
    process.execPath,
    [
      ...profile,
      ...(opts.nodeArgs ?? []),
      '--import',
      'tsx',
      'workers/main.ts',
      ...(opts.queues ? ['--queues', opts.queues.join(',')] : []),
    ],
    {
      env: {
        ...process.env,
        DATABASE_URL: app.runtime.databaseUrl,
        TEMPORAL_ADDRESS: app.temporal.address,
        TEMPORAL_NAMESPACE: app.temporal.namespace,
        S3_ENDPOINT: app.runtime.s3.endpoint,
        S3_BUCKET: app.runtime.s3.bucket,
        S3_ACCESS_KEY_ID: app.runtime.s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: app.runtime.s3.secretAccessKey,
        SMS_PROVIDER: 'twilio',
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_API_BASE_URL: twilio.url,
        TWILIO_FROM_NUMBER: BENCH_SENDER,
        TWILIO_MAX_PER_SECOND: String(opts.cap),
        // a short code: the account cap is what binds here
        TWILIO_NUMBER_MAX_PER_SECOND: String(opts.cap),
        SEND_BATCH_SIZE: String(opts.batchSize),
        // at least info: the bench waits for the worker's 'worker running' line
        LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'info',
        OPS_PORT: '0',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      log.push(text);
      if (text.includes('worker running')) resolve();
    });
    child.stderr!.on('data', (c: Buffer) => {
      log.push(c.toString());
      if (process.env.BENCH_WORKER_LOG) process.stderr.write(c);
    });
    if (process.env.BENCH_WORKER_LOG) child.stdout!.on('data', (c: Buffer) => process.stderr.write(c));
    child.once('exit', (code) =>
      reject(new Error(`the worker exited with code ${code}:\n${log.join('').slice(-3000)}`)),
    );
  });
  return child;
}

/** SIGTERM, then waits for it to finish what it has in hand. */
export async function stopWorker(child: ChildProcess): Promise<void> {
  child.removeAllListeners('exit');
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
