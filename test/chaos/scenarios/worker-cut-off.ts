// A worker loses its way to Temporal mid-dispatch while Postgres and the vendor stay reachable (a
// network partition): Temporal starts its batches' next attempts on the other worker while it goes on.
import { startCuttableLink, type CuttableLink } from '../../support/cuttable-link';
import type { ChaosScenario } from '../support/counts';
import {
  dispatchToTheEnd,
  measureSmsRun,
  pause,
  prepareSmsRun,
  startRunWorker,
  startSmsDispatch,
  whenAccepted,
} from '../support/sms-dispatch';
import type { ChaosWorker } from '../support/workers';
import { CHAOS_HEARTBEAT_TIMEOUT_MS, volume } from '../support/world';

export const scenario: ChaosScenario = {
  name: 'worker-cut-off',
  short: true,
  async run() {
    const messages = volume(200, 600);
    const { world, run } = await prepareSmsRun({ messages, batchSize: 20 });
    const links: CuttableLink[] = [];
    const workers: ChaosWorker[] = [];
    try {
      // two workers, each reaching Temporal through a link of its own
      for (let i = 0; i < 2; i++) {
        const link = await startCuttableLink(world.env.TEMPORAL_ADDRESS!);
        links.push(link);
        workers.push(await startRunWorker(world, run, { TEMPORAL_ADDRESS: link.address }));
      }
      const handle = await startSmsDispatch(world, run);
      await whenAccepted(world, run, Math.floor(messages / 3));
      // long enough for Temporal to give the cut worker's batches to the other one, both alive at once
      links[0]!.cut();
      await pause(CHAOS_HEARTBEAT_TIMEOUT_MS * 3);
      links[0]!.mend();
      await dispatchToTheEnd(world, run, handle, 5);
      return await measureSmsRun(world, run);
    } finally {
      for (const link of links) link.mend();
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(links.map((l) => l.close()));
    }
  },
};
