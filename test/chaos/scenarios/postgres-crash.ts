// Postgres stopped in immediate mode (a crash: no checkpoint, every session cut) mid-dispatch, and restarted.
import type { ChaosScenario } from '../support/counts';
import { faultDuringDispatch, pause } from '../support/sms-dispatch';
import { volume } from '../support/world';

export const scenario: ChaosScenario = {
  name: 'postgres-crash',
  short: true,
  run: () =>
    faultDuringDispatch({
      messages: volume(200, 600),
      after: 1 / 3,
      async fault(world) {
        await world.postgres.crash();
        await pause(3000);
        await world.postgres.start();
      },
      cleanUp: (world) => world.postgres.start(),
    }),
};
