// The set-up most workflow test files share: the app and a worker on a task queue of the file's own.
import { afterAll, beforeAll } from 'vitest';
import type { App } from '../../lib/app';
import { openTestApp, startTestWorker, type TestWorker } from './harness';

export interface WorkerEnv {
  app: App;
  worker: TestWorker;
}

/** Call at a test file's top level: opens the app and starts a worker before the file's tests, hands them to `ready`, and stops them after. */
export function useWorkerEnv(ready: (env: WorkerEnv) => void): void {
  let app: App | undefined;
  let worker: TestWorker | undefined;
  beforeAll(async () => {
    app = await openTestApp();
    worker = await startTestWorker(app);
    ready({ app, worker });
  });
  afterAll(async () => {
    await worker?.stop();
    await app?.close();
  });
}
