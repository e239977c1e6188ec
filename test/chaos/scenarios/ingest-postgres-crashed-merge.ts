// Postgres stopped in immediate mode during the merge, and started again: the staging rows are gone, the file is staged again.
import { ingestFaultScenario } from '../support/ingest-faults';

export const scenario = ingestFaultScenario({
  name: 'ingest-postgres-crashed-merge',
  short: true,
  fault: 'postgres-crashed',
  during: 'merge',
});
