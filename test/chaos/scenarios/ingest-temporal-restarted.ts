// The Temporal server killed and started again while a file is staged: the ingest carries on to the same end.
import { ingestFaultScenario } from '../support/ingest-faults';

export const scenario = ingestFaultScenario({
  name: 'ingest-temporal-restarted',
  short: false,
  fault: 'temporal-restarted',
  during: 'staging',
});
