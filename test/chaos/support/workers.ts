// Worker processes of the fault suite's world: real `workers/main.ts` processes that a scenario kills with SIGKILL.
import type { ChildProcess } from 'node:child_process';
import { startWorkerProcess } from '../../support/worker-process';
import type { ChaosWorld } from './world';

export interface ChaosWorker {
  process: ChildProcess;
  /** kill -9: no shutdown, no last heartbeat, no release of anything it holds */
  kill(): Promise<void>;
  /** SIGTERM: the worker's own graceful shutdown */
  stop(): Promise<void>;
}

const exit = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });

/** A worker process hosting the scenario's workflow queue and the send queues of `accounts`. */
export async function startChaosWorker(
  world: ChaosWorld,
  opts: { queue: string; accounts: string[]; env?: Record<string, string> },
): Promise<ChaosWorker> {
  const child = await startWorkerProcess(opts.queue, {
    ...world.env,
    WORKER_SEND_ACCOUNTS: opts.accounts.join(','),
    ...opts.env,
  });
  return {
    process: child,
    kill: async () => {
      child.kill('SIGKILL');
      await exit(child);
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exit(child);
    },
  };
}
