// The worker sending a batch killed (kill -9) and its dispatch terminated by an operator: nobody will retry it.
// The sweep settles what it left in 'sending'; the next dispatch sends the rest, each once.
import { randomUUID } from 'node:crypto';
import { WORKFLOW_IDS } from '../../../lib/names';
import { sweepStrandedSends } from '../../../workflows';
import type { ChaosScenario } from '../support/counts';
import {
  finished,
  measureSmsRun,
  pause,
  prepareSmsRun,
  startRunWorker,
  startSmsDispatch,
  whenAccepted,
} from '../support/sms-dispatch';
import { CHAOS_HEARTBEAT_TIMEOUT_MS, volume } from '../support/world';

export const scenario: ChaosScenario = {
  name: 'stranded-batch',
  short: true,
  async run() {
    const messages = volume(100, 400);
    const { world, run } = await prepareSmsRun({ messages, batchSize: messages });
    const first = await startRunWorker(world, run);
    // a slow vendor: the worker dies with texts in flight
    await world.twilio.behave({ answerDelayMs: 1500 });
    let second;
    try {
      const handle = await startSmsDispatch(world, run);
      await whenAccepted(world, run, Math.floor(messages / 4));
      await first.kill();
      await handle.terminate('an operator stopped the dispatch');
      await world.twilio.behave({ answerDelayMs: undefined });
      second = await startRunWorker(world, run);
      // the sweep runs each minute in production; here until nothing of the run is left undecided
      for (let i = 0; ; i++) {
        await world.client.workflow.execute(sweepStrandedSends, {
          taskQueue: run.queue,
          workflowId: `${WORKFLOW_IDS.sendSweep}/${randomUUID()}`,
          args: [{}],
        });
        const [left] = await world.sql<{ n: number }[]>`
          select count(*)::int as n from messages
          where id in ${world.sql(run.messageIds)} and state in ('sending', 'unknown')`;
        if (!left!.n) break;
        if (i > 20) throw new Error(`${left!.n} message(s) still undecided after ${i} sweeps`);
        await pause(CHAOS_HEARTBEAT_TIMEOUT_MS);
      }
      await finished(await startSmsDispatch(world, run));
      return await measureSmsRun(world, run);
    } finally {
      await world.twilio.behave({ answerDelayMs: undefined });
      await first.stop();
      await second?.stop();
    }
  },
};
