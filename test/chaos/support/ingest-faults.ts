// One fault in the middle of one step of an ingest, and what the packet ends with: the ingest scenarios.
import type { ChaosCounts, ChaosScenario } from './counts';
import {
  ingestSettled,
  measureIngestRun,
  prepareIngestRun,
  removeRunTmp,
  startIngest,
  startIngestWorker,
  whenRunning,
  type IngestStep,
} from './ingest-run';
import { chaosWorld, volume, type ChaosWorld } from './world';
import type { ChaosWorker } from './workers';

export type IngestFault =
  /** kill -9 of the worker running the step; a new worker takes over */
  | 'worker-killed'
  /** Postgres stopped in immediate mode (crash recovery empties the unlogged staging table) and started again */
  | 'postgres-crashed'
  /** the Temporal server killed and started again on its state */
  | 'temporal-restarted';

/** Good rows of each scenario's file: staging, merge and planning each last long enough to be caught. */
const goodRows = () => volume(30_000, 200_000);
const BAD_ROWS = 25;

async function inflict(fault: IngestFault, world: ChaosWorld, worker: ChaosWorker): Promise<void> {
  switch (fault) {
    case 'worker-killed':
      return worker.kill();
    case 'postgres-crashed':
      await world.postgres.crash();
      return world.postgres.start();
    case 'temporal-restarted':
      return world.temporal.restart();
  }
}

export function ingestFaultScenario(opts: {
  name: string;
  short: boolean;
  fault: IngestFault;
  during: IngestStep;
}): ChaosScenario {
  return {
    name: opts.name,
    short: opts.short,
    async run(): Promise<ChaosCounts> {
      const world = await chaosWorld();
      const run = await prepareIngestRun(world, { good: goodRows(), bad: BAD_ROWS });
      const workers = [await startIngestWorker(world, run)];
      try {
        const handle = await startIngest(world, run);
        await whenRunning(world, run, handle, opts.during);
        await inflict(opts.fault, world, workers[0]!);
        // a killed worker's step goes to the next worker once its heartbeat is missed
        if (opts.fault === 'worker-killed') workers.push(await startIngestWorker(world, run));
        await ingestSettled(handle, workers);
        return await measureIngestRun(world, run);
      } finally {
        for (const worker of workers) await worker.stop();
        await removeRunTmp(run);
      }
    },
  };
}
