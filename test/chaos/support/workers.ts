// Worker processes of the fault suite's world: real `workers/main.ts` processes that a scenario kills with SIGKILL.
import type { ChildProcess } from 'node:child_process';
import { startWorkerProcess } from '../../support/worker-process';
import type { ChaosWorld } from './world';

export interface ChaosWorker {
  process: ChildProcess;
  /** kill -9: no shutdown, no last heartbeat, no release of anything it holds */
  kill(): Promise<void>;
  /** SIGTERM: the worker's own graceful shutdown, then SIGKILL if it has not stopped within `graceMs` */
  stop(graceMs?: number): Promise<void>;
  /**
   * Rejects when the process exits without being killed or stopped (a crash of its own), with its exit
   * status and the end of its output: a scenario that waits on work no worker is left to do says so.
   */
  died: Promise<never>;
}

const exit = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });

/** The last lines of output kept for a worker that died. */
const OUTPUT_KEPT = 8_000;

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
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-OUTPUT_KEPT));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let meant = false;
  const died = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => {
      if (!meant)
        reject(new Error(`worker process ${child.pid} exited (${signal ?? code}) by itself:\n${output}`));
    }),
  );
  // a scenario that never waits on `died` must not see it as an unhandled rejection
  died.catch(() => undefined);
  return {
    process: child,
    died,
    kill: async () => {
      meant = true;
      child.kill('SIGKILL');
      await exit(child);
    },
    stop: async (graceMs = 30_000) => {
      meant = true;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exit(child), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) {
        console.warn(`  worker process ${child.pid} did not stop within ${graceMs} ms of SIGTERM: killed`);
        child.kill('SIGKILL');
        await exit(child);
      }
    },
  };
}
