// What a batch's first text need not wait for: the database's clock, learnt when the send worker starts.
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { clockCalibrated } from '../lib/rates/rate-slots';
import type { TwilioStandin } from './standins/twilio';
import { createTestAccount, startDispatchWorkers } from './support/dispatch';
import { useDispatchEnv } from './support/dispatch-env';

let app: App;
let twilio: TwilioStandin;

useDispatchEnv({ credits: 1000 }, (env) => ({ app, twilio } = env));

const smsAccount = () =>
  createTestAccount(app.sql, {
    channel: 'sms',
    provider: 'twilio',
    maxPerSecond: 50,
    batchSize: 10,
    senders: [{ address: '+16175550199', kind: 'short_code', maxPerSecond: 50 }],
  });

describe("a batch's first text", () => {
  it('finds the database clock already learnt: the send worker learns it when it starts', async () => {
    // nothing in this file's process has reserved a send time yet
    expect(clockCalibrated()).toBe(false);
    const workers = await startDispatchWorkers(app, { accounts: [await smsAccount()], twilio });
    try {
      expect(clockCalibrated()).toBe(true);
    } finally {
      await workers.stop();
    }
  });
});
