// Stops a server this process started as a child process, and waits until it has exited.
import type { ChildProcess } from 'node:child_process';

/**
 * Sends `signal` and resolves once the child has exited, at once if it already has (by a code or by a
 * signal). With `killAfterMs`, a child still running that long after the signal is killed outright.
 */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals, killAfterMs?: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}
