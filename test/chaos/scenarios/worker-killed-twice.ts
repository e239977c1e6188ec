// kill -9 of the worker process twice in one dispatch: each time a new worker takes over, and nothing goes out twice.
import type { ChaosScenario } from '../support/counts';
import {
  dispatchToTheEnd,
  measureSmsRun,
  prepareSmsRun,
  startRunWorker,
  startSmsDispatch,
  whenAccepted,
} from '../support/sms-dispatch';
import { volume } from '../support/world';

export const scenario: ChaosScenario = {
  name: 'worker-killed-twice',
  short: true,
  async run() {
    const messages = volume(300, 1000);
    const { world, run } = await prepareSmsRun({ messages, batchSize: 10 });
    let current = await startRunWorker(world, run);
    try {
      const handle = await startSmsDispatch(world, run);
      for (const share of [1 / 3, 2 / 3]) {
        await whenAccepted(world, run, Math.floor(messages * share));
        await current.kill();
        current = await startRunWorker(world, run);
      }
      await dispatchToTheEnd(world, run, handle);
      return await measureSmsRun(world, run);
    } finally {
      await current.stop();
    }
  },
};
