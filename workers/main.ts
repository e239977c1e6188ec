// Worker process: hosts the task queues it is told to (--queues or WORKER_TASK_QUEUES; `none`: send queues only)
// until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { openApp } from '../lib/app';
import { exitOnStartFailure, loadConfigOrExit, loadDotEnv, parseTaskQueues } from '../lib/config';
import { createLogger } from '../lib/log';
import { TASK_QUEUES } from '../lib/names';
import { startWorkerRuntime } from './worker-runtime';

loadDotEnv();
const { values } = parseArgs({ options: { queues: { type: 'string' } } });
const config = loadConfigOrExit();
const taskQueues = (values.queues === undefined ? undefined : parseTaskQueues(values.queues)) ??
  config.worker.taskQueues ?? [TASK_QUEUES.pipeline];

const log = createLogger({ level: config.logLevel ?? 'info' }).child({ taskQueues });
const app = await openApp({ config, log, setUp: true }).catch(exitOnStartFailure('worker'));
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: tsx exits at once when its own handler is the only one left
  process.on(signal, () => {
    log.info({ signal }, 'shutting down: finishing in-flight tasks');
    stop.abort();
  });
}
try {
  const running = await startWorkerRuntime({
    app,
    log,
    taskQueues,
    stop: stop.signal,
    ops: config.ops,
  }).catch(exitOnStartFailure('worker'));
  // send queues run activities only: the workflows that start their batches are on the pipeline queue
  log.info({ sendQueues: running.sendQueues, opsPort: running.opsPort }, 'worker running');
  await running.finished;
} finally {
  await app.close();
}
log.info('worker stopped');
