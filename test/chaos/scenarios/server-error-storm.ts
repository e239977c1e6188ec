// A storm of 5xx: 500s (the vendor may or may not have taken the text: reconciled) and 503s (it did not).
import type { ChaosScenario } from '../support/counts';
import { faultDuringDispatch } from '../support/sms-dispatch';
import { volume } from '../support/world';

export const scenario: ChaosScenario = {
  name: 'server-error-storm',
  short: true,
  run: () =>
    faultDuringDispatch({
      messages: volume(200, 600),
      after: 1 / 10,
      async fault(world) {
        const storm = { resource: 'Messages' as const, times: 40 };
        await world.twilio.script({ ...storm, status: 500, code: 20500, message: 'Internal Server Error' });
        await world.twilio.script({ ...storm, status: 503, code: 20503, message: 'Service Unavailable' });
      },
    }),
};
