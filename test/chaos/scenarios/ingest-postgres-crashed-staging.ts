// Postgres stopped in immediate mode while a file is staged, and started again: staging resumes or starts over.
import { ingestFaultScenario } from '../support/ingest-faults';

export const scenario = ingestFaultScenario({
  name: 'ingest-postgres-crashed-staging',
  short: false,
  fault: 'postgres-crashed',
  during: 'staging',
});
