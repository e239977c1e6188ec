// Test helpers: open the app against the run's servers and host a worker on a queue of the test's own.
import { randomUUID } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import { createActivities, type Activities } from '../../activities';
import { openApp, type App } from '../../lib/app';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/log';
import { createProviderRegistry } from '../../lib/providers/registry';
import { connectWorker } from '../../lib/temporal';
import { createWorkers, installTemporalLogging } from '../../workers/create-workers';
import { workflowBundle } from '../../workers/workflow-bundle';

export async function openTestApp(): Promise<App> {
  const log = createLogger({ level: 'warn', pretty: false });
  return openApp({ config: loadConfig(), log });
}

/** The app's activities as a worker process makes them, sending through `providers`. */
export function testActivities(
  app: App,
  providers = createProviderRegistry({ sql: app.sql, config: app.config }),
): Activities {
  return createActivities({
    sql: app.sql,
    s3: app.s3,
    bucket: app.bucket,
    log: app.log,
    providers,
    ingestLimits: app.config.ingest,
    sourceMaxFileBytes: app.config.sources.maxFileBytes,
    secretEnvPrefixes: app.config.secretEnvPrefixes,
  });
}

export interface TestWorker {
  taskQueue: string;
  worker: Worker;
  stop(): Promise<void>;
}

/** A worker on a fresh task queue, so tests never pick up each other's tasks. */
export async function startTestWorker(
  app: App,
  opts: {
    taskQueue?: string;
    activities?: Activities;
    /** how often heartbeats (and so cancellations) pass between an activity and Temporal */
    heartbeatThrottleMs?: number;
  } = {},
): Promise<TestWorker> {
  installTemporalLogging(app.log);
  const taskQueue = opts.taskQueue ?? `test-${randomUUID()}`;
  const connection = await connectWorker(app.temporal);
  const [worker] = await createWorkers({
    connection,
    namespace: app.temporal.namespace,
    taskQueues: [taskQueue],
    activities: opts.activities ?? testActivities(app),
    workflowBundle: await workflowBundle(app.config.worker.workflowBundlePath),
    heartbeatThrottleMs: opts.heartbeatThrottleMs,
  });
  const running = worker!.run();
  return {
    taskQueue,
    worker: worker!,
    stop: async () => {
      worker!.shutdown();
      await running;
      await connection.close();
    },
  };
}

/** Polls until `check` returns a value (Temporal's visibility store is eventually consistent). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
