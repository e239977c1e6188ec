// Every input bomb ingested by a worker process: each packet fails at once naming its limit, is never
// retried, and leaves nothing loaded, staged or in a temporary directory.
import { BOMB_FILES } from '../../support/bomb-files';
import { ZERO, addCounts, type ChaosCounts, type ChaosScenario } from '../support/counts';
import {
  createIngestHost,
  ingestSettled,
  leftInTmp,
  prepareIngestRun,
  removeRunTmp,
  startIngest,
  startIngestWorker,
} from '../support/ingest-run';
import { chaosWorld } from '../support/world';

export const scenario: ChaosScenario = {
  name: 'ingest-bombs',
  short: true,
  timeoutSeconds: 300,
  async run() {
    const world = await chaosWorld();
    // one worker for every bomb: a bomb that hurt it (a stack overflow, memory) fails the ones after it
    const host = await createIngestHost();
    const worker = await startIngestWorker(world, host);
    let total = ZERO;
    try {
      for (const bomb of BOMB_FILES) {
        const run = await prepareIngestRun(world, {
          good: 0,
          bad: 0,
          file: { name: bomb.fileName, body: bomb.body() },
          host,
        });
        const handle = await startIngest(world, run);
        // a bomb fails at once: one still running after a minute is counted as stuck
        await ingestSettled(handle, [worker], 60_000);
        const [packet] = await world.sql<
          { stage: string; error: string | null; loaded: number; staging: number }[]
        >`
          select p.stage, p.error,
                 (select count(*)::int from appointments where last_packet_id = p.id)
                 + (select count(*)::int from contacts where last_packet_id = p.id) as loaded,
                 (select count(*)::int from packet_rows where packet_id = p.id) as staging
          from data_packets p where p.id = ${run.packet.id}`;
        if (packet!.stage === 'failed' && !bomb.fails.test(packet!.error ?? ''))
          throw new Error(`${bomb.name}: failed with another error: ${packet!.error}`);
        // attempts past the first: of activities that ended, and of one still retrying
        const history = await handle.fetchHistory();
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        const retries =
          (history.events ?? []).filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1)
            .length + pending.reduce((n, a) => n + Math.max(0, (a.attempt ?? 1) - 1), 0);
        const counts: ChaosCounts = {
          // a problem with the file is never worked on twice
          duplicates: retries,
          // anything of a refused file in the tables is half-written
          lost: packet!.loaded,
          wrong_tenant: 0,
          stuck: (packet!.stage === 'failed' ? 0 : 1) + packet!.staging + (await leftInTmp(run)).length,
        };
        if (counts.duplicates + counts.lost + counts.stuck > 0)
          console.log(`  ${bomb.name}: ${JSON.stringify({ ...counts, stage: packet!.stage })}`);
        total = addCounts(total, counts);
      }
    } finally {
      await worker.stop();
      await removeRunTmp(host);
    }
    return total;
  },
};
