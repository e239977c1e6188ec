// Runs the herald CLI as an operator does: a child process with the test run's servers in its environment.
import { spawn } from 'node:child_process';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** milliseconds from start to exit */
  ms: number;
}

/** `opts.input`, when given, is what the operator types (an answer to a confirmation); else stdin is empty. */
export function herald(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  opts: { readerGone?: boolean; input?: string } = {},
): Promise<CliRun> {
  const { input } = opts;
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/herald.ts', ...args], {
      env: { ...process.env, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    // as `herald ... | head` once head has exited: the output's pipe has no reader
    if (opts.readerGone) child.stdout!.destroy();
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/** The same function under the name some suites import it by. */
export const runHerald = herald;
