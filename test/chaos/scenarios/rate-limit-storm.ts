// A storm of 429s: the vendor takes 3 texts a second of an account capped at 20, for 15 s.
import type { ChaosScenario } from '../support/counts';
import { faultDuringDispatch, pause } from '../support/sms-dispatch';
import { volume } from '../support/world';

export const scenario: ChaosScenario = {
  name: 'rate-limit-storm',
  short: true,
  run: () =>
    faultDuringDispatch({
      messages: volume(200, 600),
      after: 1 / 10,
      async fault(world) {
        await world.twilio.behave({ rateLimitPerSecond: 3 });
        await pause(15_000);
        await world.twilio.behave({ rateLimitPerSecond: undefined });
      },
      cleanUp: (world) => world.twilio.behave({ rateLimitPerSecond: undefined }),
    }),
};
