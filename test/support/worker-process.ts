// A worker in a process of its own, as in production, on a test's queue: a test can kill it outright.
import { spawn, type ChildProcess } from 'node:child_process';

const started: ChildProcess[] = [];

/** Starts `workers/main.ts` on the queue and resolves once it says it runs. */
export async function startWorkerProcess(
  taskQueue: string,
  env: Record<string, string> = {},
): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts', '--queues', taskQueue], {
    // info: the line this waits for is the worker's 'worker running'
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`worker exited (${code}): ${output}`)));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
      if (output.includes('worker running')) resolve();
    });
  });
  return child;
}

/** Kills every worker process still running: for afterAll. */
export function killWorkerProcesses(): void {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
