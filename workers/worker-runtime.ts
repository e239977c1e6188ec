// One worker runtime for every process that hosts task queues (workers/main.ts, npm start): workers
// with herald's activities, the send workers at their accounts' rates, and an orderly stop.
import type { Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { App } from '../lib/app';
import { ConfigError } from '../lib/config';
import { createSql } from '../lib/db';
import { ensureArchiveSchedule } from '../lib/archive/schedule';
import { ensureSendSweepSchedule } from '../lib/dispatch/sweep-schedule';
import { releaseWindowShares } from '../lib/rates/window-shares';
import type { Logger } from '../lib/log';
import { heraldMetrics } from '../lib/ops/metrics';
import { startOpsServer } from '../lib/ops/server';
import { freePort } from '../lib/runtime/ports';
import { TASK_QUEUES } from '../lib/names';
import { syncConfiguredAccounts } from '../lib/providers/configured-accounts';
import { createProviderRegistry } from '../lib/providers/registry';
import { connectWorker } from '../lib/temporal';
import { ensureWebhookDrainer } from '../lib/webhooks/drainer';
import { createWorkers, installTemporalLogging, runWorkers } from './create-workers';
import { configuredSendWorkers } from './send-workers';
import { workflowBundle } from './workflow-bundle';

/**
 * Connections of the pool that makes reminder runs' due messages (ActivityDeps.runSql): one, so runs
 * make them one at a time and each starts sending while the next makes its own (docs/benchmarks.md:
 * the first text a second sooner than with three, and the last no later).
 */
const RUN_POOL_CONNECTIONS = 1;

export interface RunningWorkers {
  workers: Worker[];
  /** the send queues this process hosts (activities only, at each account's rate) */
  sendQueues: string[];
  /** where /metrics, /livez and /readyz answer, when asked for */
  opsPort?: number;
  /** resolves once the workers stopped, their window shares were given back and the connection closed */
  finished: Promise<void>;
}

/**
 * Starts workers for `taskQueues` and the configured send accounts, and runs them until `stop` is
 * aborted: in-flight tasks finish, then the process's shares of the send caps are released at once
 * (not left to expire, which other processes would wait for and which logs a failed renewal).
 */
export async function startWorkerRuntime(opts: {
  app: App;
  log: Logger;
  taskQueues: string[];
  stop: AbortSignal;
  /** serve /metrics, /livez and /readyz here (worker processes; npm start does without) */
  ops?: { port: number; host: string };
}): Promise<RunningWorkers> {
  const { app, log } = opts;
  const { config } = app;
  const sdkMetricsAddress = opts.ops ? `127.0.0.1:${await freePort()}` : undefined;
  installTemporalLogging(log, sdkMetricsAddress);
  // runs wait their turn to make their messages, so the first finishes (and starts sending) sooner
  // than if every run's statement shared the cores at once
  const runSql = createSql({
    url: app.runtime.databaseUrl,
    actor: config.actor,
    max: RUN_POOL_CONNECTIONS,
    applicationName: 'herald-runs',
  });
  let workers: Worker[] | undefined;
  const ops = opts.ops
    ? await startOpsServer({
        ...opts.ops,
        log,
        metrics: () => heraldMetrics(app.sql),
        sdkMetricsUrl: sdkMetricsAddress && `http://${sdkMetricsAddress}/metrics`,
        notReady: async () => {
          if (!workers) return 'starting';
          const idle = workers.filter((w) => w.getState() !== 'RUNNING');
          if (idle.length)
            return idle.map((w) => `${w.options.taskQueue} worker is ${w.getState()}`).join(', ');
          await app.sql`select 1`;
          return undefined;
        },
      })
    : undefined;
  const connection = await connectWorker(app.temporal).catch(async (err) => {
    await ops?.close();
    throw err;
  });
  let started = false;
  try {
    await syncConfiguredAccounts(app.sql, config);
    const activities = createActivities({
      sql: app.sql,
      runSql,
      s3: app.s3,
      bucket: app.bucket,
      log,
      providers: createProviderRegistry({ sql: app.sql, config }),
      quietHours: config.reminders.quietHours,
      ingestLimits: config.ingest,
      sourceMaxFileBytes: config.sources.maxFileBytes,
      secretEnvPrefixes: config.secretEnvPrefixes,
    });
    const sendWorkers = await configuredSendWorkers({
      sql: app.sql,
      config,
      connection,
      namespace: app.temporal.namespace,
      activities,
    });
    // a send queue named in the task queues is hosted by its send worker (activities only, at the account's
    // rate), not by a second worker without the rate; a process of send queues alone bundles no workflows
    const sendQueues = sendWorkers.map((w) => w.options.taskQueue);
    const workflowQueues = opts.taskQueues.filter((q) => !sendQueues.includes(q));
    if (!workflowQueues.length && !sendQueues.length)
      throw new ConfigError([
        {
          variable: 'WORKER_TASK_QUEUES',
          message: `names no task queue and WORKER_SEND_ACCOUNTS (${String(config.sending.workerAccounts)}) no active account: the worker would host nothing`,
        },
      ]);
    workers = workflowQueues.length
      ? await createWorkers({
          connection,
          namespace: app.temporal.namespace,
          taskQueues: workflowQueues,
          activities,
          workflowBundle: await workflowBundle(config.worker.workflowBundlePath),
          heartbeatThrottleMs: config.worker.heartbeatThrottleMs,
        })
      : [];
    workers.push(...sendWorkers);
    log.debug({ workflowQueues, sendQueues }, 'workers created');
    started = true;
    // stopped by the caller, or here when the rest of the start-up fails
    const stop = new AbortController();
    opts.stop.addEventListener('abort', () => stop.abort(), { once: true });
    if (opts.stop.aborted) stop.abort();
    const finished = runWorkers(workers, stop.signal).finally(async () => {
      // the sends are over: other processes on these accounts may take our shares of their caps at once
      await releaseWindowShares(app.sql).catch((err) =>
        log.warn({ err }, 'giving back window shares failed'),
      );
      await connection.close();
      await runSql.end();
      await ops?.close();
    });
    try {
      // the process hosting the pipeline queue keeps the nightly archive schedule in line with its
      // configuration, the webhook outbox's drainer running and the stranded-send sweep scheduled
      if (opts.taskQueues.includes(TASK_QUEUES.pipeline)) {
        const client = await app.client();
        await ensureArchiveSchedule(client, config.archive);
        await ensureWebhookDrainer(client);
        await ensureSendSweepSchedule(client);
      }
    } catch (err) {
      stop.abort();
      await finished.catch(() => {});
      throw err;
    }
    return { workers, sendQueues, finished, opsPort: ops?.port };
  } catch (err) {
    if (!started) {
      await connection.close();
      await runSql.end();
      await ops?.close();
    }
    throw err;
  }
}
