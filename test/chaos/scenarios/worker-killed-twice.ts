// kill -9 of the worker process twice in one dispatch: each time a new worker takes over, and nothing goes out twice.
import type { ChaosScenario } from '../support/counts';
import {
  dispatchToTheEnd,
  measureSmsRun,
  prepareSmsRun,
  startSmsDispatch,
  whenAccepted,
} from '../support/sms-dispatch';
import { startChaosWorker } from '../support/workers';
import { chaosWorld, volume } from '../support/world';

export const scenario: ChaosScenario = {
  name: 'worker-killed-twice',
  short: true,
  async run() {
    const world = await chaosWorld();
    const messages = volume(300, 1000);
    const run = await prepareSmsRun(world, { messages, maxPerSecond: 20, batchSize: 10 });
    const worker = () => startChaosWorker(world, { queue: run.queue, accounts: [run.account.key] });
    let current = await worker();
    try {
      const handle = await startSmsDispatch(world, run);
      for (const share of [1 / 3, 2 / 3]) {
        await whenAccepted(world, run, Math.floor(messages * share));
        await current.kill();
        current = await worker();
      }
      await dispatchToTheEnd(world, run, handle);
      return await measureSmsRun(world, run);
    } finally {
      await current.stop();
    }
  },
};
