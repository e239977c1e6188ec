// The Temporal server killed outright mid-dispatch and started again on the same state.
import type { ChaosScenario } from '../support/counts';
import { faultDuringDispatch } from '../support/sms-dispatch';
import { volume } from '../support/world';

export const scenario: ChaosScenario = {
  name: 'temporal-restart',
  short: true,
  run: () =>
    faultDuringDispatch({
      messages: volume(200, 600),
      after: 1 / 3,
      fault: (world) => world.temporal.restart(),
    }),
};
