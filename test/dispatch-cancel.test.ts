import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import type { TwilioStandin } from './standins/twilio';
import {
  createContacts,
  createTestAccount,
  createTestCompany,
  insertMessages,
  startDispatch,
  startTwilioDispatchWorkers,
  twilioWorkerEnv,
  type TestCompany,
  contactPhones,
} from './support/dispatch';
import { eventually } from './support/harness';
import { useDispatchEnv } from './support/dispatch-env';
import { killWorkerProcesses, startWorkerProcess } from './support/worker-process';

let app: App;
let twilio: TwilioStandin;

// worker processes reach this process's stand-in; they are killed when the file's tests are over
useDispatchEnv({ credits: 0 }, (env) => ({ app, twilio } = env));
afterAll(killWorkerProcesses);

const MESSAGES = 40;

/** A company with MESSAGES texts due through an account that sends 2 a second: 20 s of sending. */
async function slowBatch(): Promise<{
  company: TestCompany;
  account: Awaited<ReturnType<typeof createTestAccount>>;
  ids: number[];
  arrivals(): number[];
}> {
  const company = await createTestCompany(app.sql, { credits: 1000 });
  const account = await createTestAccount(app.sql, {
    channel: 'sms',
    provider: 'twilio',
    maxPerSecond: 2,
    batchSize: MESSAGES,
    senders: [{ address: '+16175550149', kind: 'long_code', maxPerSecond: 2 }],
  });
  const contacts = await createContacts(app.sql, company.id, MESSAGES);
  const ids = await insertMessages(app.sql, company.id, contacts, 'sms');
  const phones = await contactPhones(app.sql, contacts);
  return {
    company,
    account,
    ids,
    arrivals: () =>
      twilio
        .accepted('Messages')
        .filter((r) => phones.has(String(r.form.To)))
        .map((r) => r.arrivedAt),
  };
}

const startBatchDispatch = (queue: string, batch: Awaited<ReturnType<typeof slowBatch>>) =>
  startDispatch(app, queue, {
    companyId: batch.company.id,
    companyAlias: batch.company.alias,
    channel: 'sms',
    accountKey: batch.account.key,
  });

const states = async (ids: number[]) =>
  Object.fromEntries(
    (
      await app.sql<{ state: string; n: number }[]>`
        select state, count(*)::int as n from messages where id in ${app.sql(ids)} group by state`
    ).map((r) => [r.state, r.n]),
  );

describe('a send activity told to stop', () => {
  it('stops calling the provider within two seconds of its dispatch being cancelled', async () => {
    const batch = await slowBatch();
    const workers = await startTwilioDispatchWorkers(app, batch.account, twilio);
    try {
      const handle = await startBatchDispatch(workers.taskQueue, batch);
      await eventually(async () => (batch.arrivals().length >= 3 ? true : undefined), 60_000);
      const cancelledAt = performance.timeOrigin + performance.now();
      await handle.cancel();
      // what was claimed and not sent goes back in line; nothing is left in 'sending'
      await eventually(async () => ((await states(batch.ids)).sending ? undefined : true), 30_000);
      await new Promise((r) => setTimeout(r, 3000));
      const late = batch.arrivals().filter((at) => at > cancelledAt + 2000);
      expect(late).toEqual([]);
      const now = await states(batch.ids);
      expect(now.sent).toBe(batch.arrivals().length);
      expect(now.sent! + now.scheduled!).toBe(MESSAGES);
    } finally {
      await workers.stop();
    }
  });

  it('lets its worker shut down once its calls in flight are answered, not when its sends would be done', async () => {
    const batch = await slowBatch();
    const queue = `test-${randomUUID()}`;
    const worker = await startWorkerProcess(queue, twilioWorkerEnv(twilio, batch.account));
    // each text is answered 1.5 s after it arrives: there is always one in flight
    twilio.answerDelayMs = 1500;
    try {
      await startBatchDispatch(queue, batch);
      await eventually(async () => (batch.arrivals().length >= 3 ? true : undefined), 60_000);
      const stoppedAt = Date.now();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.kill('SIGTERM');
      await exited;
      expect(Date.now() - stoppedAt).toBeLessThan(8000);
      // the calls in flight were answered and recorded before it exited
      const now = await states(batch.ids);
      expect(now.sending).toBeUndefined();
      expect(now.sent).toBe(batch.arrivals().length);
      expect(now.sent).toBeLessThan(MESSAGES / 2);
    } finally {
      twilio.answerDelayMs = undefined;
    }
  });
});
