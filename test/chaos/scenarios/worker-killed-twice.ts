// kill -9 of the worker process twice in one dispatch: each time a new worker takes over, and nothing goes out twice.
import type { ChaosScenario } from '../support/counts';
import {
  finished,
  measureSmsRun,
  prepareSmsRun,
  startSmsDispatch,
  whenAccepted,
} from '../support/sms-dispatch';
import { startChaosWorker } from '../support/workers';
import { chaosWorld } from '../support/world';

const MESSAGES = 300;

export const scenario: ChaosScenario = {
  name: 'worker-killed-twice',
  short: true,
  async run() {
    const world = await chaosWorld();
    const run = await prepareSmsRun(world, { messages: MESSAGES, maxPerSecond: 20, batchSize: 10 });
    const worker = () => startChaosWorker(world, { queue: run.queue, accounts: [run.account.key] });
    let current = await worker();
    try {
      const handle = await startSmsDispatch(world, run);
      for (const share of [1 / 3, 2 / 3]) {
        await whenAccepted(world, run, Math.floor(MESSAGES * share));
        await current.kill();
        current = await worker();
      }
      await finished(handle);
      return await measureSmsRun(world, run);
    } finally {
      await current.stop();
    }
  },
};
