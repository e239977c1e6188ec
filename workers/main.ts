// Worker process: hosts the task queues it is told to (--queues or WORKER_TASK_QUEUES) until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { createActivities } from '../activities';
import { openApp } from '../lib/app';
import { ensureArchiveSchedule } from '../lib/archive/schedule';
import { releaseWindowShares } from '../lib/dispatch/window-shares';
import { loadConfigOrExit } from '../lib/config';
import { TASK_QUEUES } from '../lib/names';
import { syncConfiguredAccounts } from '../lib/providers/configured-accounts';
import { createProviderRegistry } from '../lib/providers/registry';
import { connectWorker } from '../lib/temporal';
import { ensureWebhookDrainer } from '../lib/webhooks/drainer';
import { createWorkers, installTemporalLogging, runWorkers } from './create-workers';
import { configuredSendWorkers } from './send-workers';
import { workflowBundle } from './workflow-bundle';

const { values } = parseArgs({ options: { queues: { type: 'string' } } });
const config = loadConfigOrExit();
const taskQueues = values.queues
  ?.split(',')
  .map((q) => q.trim())
  .filter(Boolean) ??
  config.worker.taskQueues ?? [TASK_QUEUES.pipeline];

const app = await openApp({ config, setUp: true });
const log = app.log.child({ taskQueues });
log.level = 'info';
installTemporalLogging(log);
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: tsx exits at once when its own handler is the only one left
  process.on(signal, () => {
    log.info({ signal }, 'shutting down: finishing in-flight tasks');
    stop.abort();
  });
}
try {
  const connection = await connectWorker(app.temporal);
  await syncConfiguredAccounts(app.sql, config);
  const providers = createProviderRegistry({ sql: app.sql, config });
  const activities = createActivities({
    sql: app.sql,
    s3: app.s3,
    bucket: app.bucket,
    log,
    providers,
    quietHours: config.reminders.quietHours,
  });
  const sendWorkers = await configuredSendWorkers({
    sql: app.sql,
    config,
    connection,
    namespace: app.temporal.namespace,
    activities,
  });
  // a send queue named in --queues is hosted by its send worker (activities only, at the account's
  // rate), not by a second worker without the rate; a process of send queues alone bundles no workflows
  const sendQueues = new Set(sendWorkers.map((w) => w.options.taskQueue));
  const workflowQueues = taskQueues.filter((q) => !sendQueues.has(q));
  const workers = workflowQueues.length
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
  // the process hosting the pipeline queue keeps the nightly archive schedule in line with its configuration
  // and the webhook outbox's drainer running
  if (taskQueues.includes(TASK_QUEUES.pipeline)) {
    await ensureArchiveSchedule(await app.client(), config.archive);
    await ensureWebhookDrainer(await app.client());
  }
  // send queues run activities only: the workflows that start their batches are on the pipeline queue
  log.info({ sendQueues: sendWorkers.map((w) => w.options.taskQueue) }, 'worker running');
  await runWorkers(workers, stop.signal);
  // the sends are over: other processes on these accounts may take our shares of their caps at once
  await releaseWindowShares(app.sql);
  await connection.close();
} finally {
  await app.close();
}
log.info('worker stopped');
