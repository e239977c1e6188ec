// kill -9 of the worker while it stages a file: a new worker resumes, and every row is loaded or rejected once.
import { ingestFaultScenario } from '../support/ingest-faults';

export const scenario = ingestFaultScenario({
  name: 'ingest-worker-killed-staging',
  short: false,
  fault: 'worker-killed',
  during: 'staging',
});
