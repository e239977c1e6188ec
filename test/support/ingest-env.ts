// The set-up ingest test files share: the app, a worker on a queue of the file's own, and a test company.
import { afterAll, beforeAll } from 'vitest';
import type { App } from '../../lib/app';
import { openTestApp, startTestWorker, type TestWorker } from './harness';
import { createTestCompany, type TestCompany } from './ingest';

export interface IngestEnv {
  app: App;
  worker: TestWorker;
  company: TestCompany;
}

/**
 * Call at a test file's top level: opens the app, starts a worker and creates a company (aliases
 * start with `prefix`) before the file's tests, hands them to `ready`, and closes them after.
 */
export function useIngestEnv(prefix: string, ready: (env: IngestEnv) => void): void {
  let app: App | undefined;
  let worker: TestWorker | undefined;
  beforeAll(async () => {
    app = await openTestApp();
    worker = await startTestWorker(app);
    ready({ app, worker, company: await createTestCompany(app, { prefix }) });
  });
  afterAll(async () => {
    await worker?.stop();
    await app?.close();
  });
}
