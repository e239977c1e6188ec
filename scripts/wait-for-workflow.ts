// The CLI's waits for a workflow's result: they say when no worker polls the queues the work needs,
// and give up after --timeout (the workflow goes on; only the waiting stops).
import type { Client, WorkflowHandle } from '@temporalio/client';
import { describeTaskQueue } from '../lib/ops/task-queues';
import { UsageError } from './cli-kit';

/** How often a wait looks at the queues' pollers again. */
const POLLER_CHECK_MS = 5_000;

export class WaitTimedOut extends Error {
  constructor(what: string, seconds: number, workflowId: string) {
    super(
      `gave up waiting for ${what} after ${seconds} s; workflow ${workflowId} goes on (herald status shows it)`,
    );
    this.name = 'WaitTimedOut';
  }
}

/** --timeout as given: seconds, or undefined for no limit. */
export function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`--timeout must be a number of seconds above 0 (got "${text}")`);
  return seconds;
}

/** The queues of `taskQueues` that no worker polls now, for workflow or activity tasks. */
export async function queuesWithoutPollers(
  client: Client,
  namespace: string,
  taskQueues: string[],
): Promise<string[]> {
  const states = await Promise.all(taskQueues.map((name) => describeTaskQueue(client, namespace, name)));
  return states.filter((q) => q.pollers === 0).map((q) => q.name);
}

/**
 * Waits for the workflow's result. While a queue it needs has no poller, says so on stderr once per
 * change (the workflow waits there until a worker comes); past `timeoutSeconds` it throws WaitTimedOut.
 */
export async function waitForWorkflow<T>(opts: {
  client: Client;
  namespace: string;
  handle: WorkflowHandle;
  what: string;
  /** the queues whose workers the workflow needs; more can be added while waiting (a run's regions) */
  taskQueues: () => string[];
  timeoutSeconds?: number;
  say?: (line: string) => void;
}): Promise<T> {
  const say = opts.say ?? ((line: string) => process.stderr.write(line + '\n'));
  let reported = '';
  const checkPollers = async () => {
    const idle = await queuesWithoutPollers(opts.client, opts.namespace, opts.taskQueues()).catch(() => []);
    const now = idle.join(', ');
    if (now && now !== reported)
      say(`no worker is polling ${now}: ${opts.what} waits until one does (npm run worker, or npm start)`);
    if (!now && reported) say('a worker is polling now');
    reported = now;
  };
  await checkPollers();
  const ticker = setInterval(() => void checkPollers(), POLLER_CHECK_MS);
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = opts.handle.result() as Promise<T>;
    if (opts.timeoutSeconds === undefined) return await result;
    const seconds = opts.timeoutSeconds;
    return await Promise.race([
      result,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new WaitTimedOut(opts.what, seconds, opts.handle.workflowId)),
          seconds * 1000,
        );
      }),
    ]);
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
  }
}
