// The set-up ingest test files share: the app, a worker on a queue of the file's own, and a test company.
import { beforeAll } from 'vitest';
import { createTestCompany, type TestCompany } from './ingest';
import { useWorkerEnv, type WorkerEnv } from './worker-env';

export interface IngestEnv extends WorkerEnv {
  company: TestCompany;
}

/**
 * Call at a test file's top level: opens the app, starts a worker and creates a company (aliases
 * start with `prefix`) before the file's tests, hands them to `ready`, and closes them after.
 */
export function useIngestEnv(prefix: string, ready: (env: IngestEnv) => void): void {
  let env: WorkerEnv;
  useWorkerEnv((e) => (env = e));
  beforeAll(async () => {
    ready({ ...env, company: await createTestCompany(env.app, { prefix }) });
  });
}
