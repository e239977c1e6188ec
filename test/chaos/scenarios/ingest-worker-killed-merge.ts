// kill -9 of the worker in the middle of the merge's transaction: a new worker merges again, once.
import { ingestFaultScenario } from '../support/ingest-faults';

export const scenario = ingestFaultScenario({
  name: 'ingest-worker-killed-merge',
  short: false,
  fault: 'worker-killed',
  during: 'merge',
});
