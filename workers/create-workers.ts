// Builds Temporal workers for the task queues a process is told to host, with herald's activities.
import {
  DefaultLogger,
  Runtime,
  Worker,
  type NativeConnection,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { Activities } from '../activities';
import type { Logger } from '../lib/log';

let runtimeInstalled = false;

/**
 * Queues this process hosts for activities only (the send queues: their batches are started by
 * workflows on the pipeline queue). The SDK warns that such a worker polls no workflow tasks;
 * for these queues that is the design, so the notice is logged at debug, not as a warning.
 */
const activityOnlyQueues = new Set<string>();
export function hostsActivitiesOnly(taskQueue: string): void {
  activityOnlyQueues.add(taskQueue);
}
const NO_WORKFLOWS_NOTICE = 'No workflows registered';

/**
 * Routes the SDK's own log lines into pino once per process, and with `metricsAddress` serves the
 * SDK's Prometheus metrics there (the ops endpoint's /metrics passes them on); signals are the caller's.
 */
export function installTemporalLogging(log: Logger, metricsAddress?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const levels = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
  Runtime.install({
    shutdownSignals: [],
    ...(metricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } }
      : {}),
    logger: new DefaultLogger('WARN', (entry) => {
      const expected =
        entry.message.startsWith(NO_WORKFLOWS_NOTICE) &&
        activityOnlyQueues.has(String(entry.meta?.taskQueue));
      log[expected ? 'debug' : levels[entry.level]]({ ...entry.meta, sdk: 'temporal' }, entry.message);
    }),
  });
}

export async function createWorkers(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueues: string[];
  activities: Activities;
  workflowBundle: WorkflowBundleOption;
  /** the longest a heartbeat may wait before it reaches the server (finer resume points, more server load) */
  heartbeatThrottleMs?: number;
}): Promise<Worker[]> {
  return Promise.all(
    opts.taskQueues.map((taskQueue) =>
      Worker.create({
        connection: opts.connection,
        namespace: opts.namespace,
        taskQueue,
        workflowBundle: opts.workflowBundle,
        activities: opts.activities,
        ...(opts.heartbeatThrottleMs ? { maxHeartbeatThrottleInterval: opts.heartbeatThrottleMs } : {}),
        // an activity without a heartbeat timeout (a webhook attempt, a batch's settle) hears of its
        // cancellation only in the answer to a heartbeat: forwarded each second, not each 30
        defaultHeartbeatThrottleInterval: 1000,
      }),
    ),
  );
}

/** Runs the workers until `stop` is called (or a signal arrives); in-flight tasks finish first. */
export async function runWorkers(workers: Worker[], stopSignal: AbortSignal): Promise<void> {
  const onAbort = () => workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
  stopSignal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    stopSignal.removeEventListener('abort', onAbort);
  }
}
