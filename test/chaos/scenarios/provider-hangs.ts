// The provider takes texts and stops answering for longer than the heartbeat timeout, then recovers.
import type { ChaosScenario } from '../support/counts';
import { faultDuringDispatch, pause } from '../support/sms-dispatch';
import { CHAOS_HEARTBEAT_TIMEOUT_MS, volume } from '../support/world';

export const scenario: ChaosScenario = {
  name: 'provider-hangs',
  short: true,
  run: () =>
    faultDuringDispatch({
      messages: volume(200, 600),
      after: 1 / 4,
      // accepted on arrival, never answered: every request in flight times out, its text is at the vendor
      async fault(world) {
        await world.twilio.behave({ hangCreates: true });
        await pause(CHAOS_HEARTBEAT_TIMEOUT_MS * 2);
        await world.twilio.behave({ hangCreates: undefined });
      },
      cleanUp: (world) => world.twilio.behave({ hangCreates: undefined }),
    }),
};
