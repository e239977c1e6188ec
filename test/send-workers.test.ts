import type { ActivitySlotInfo, SlotSupplier, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { loadConfig } from '../lib/config';
import { listActiveAccounts } from '../lib/providers/accounts';
import { connectWorker } from '../lib/temporal';
import { configuredSendWorkers } from '../workers/send-workers';
import { openTestApp, testActivities } from './support/harness';

let app: App;
beforeAll(async () => {
  app = await openTestApp();
});
afterAll(async () => {
  await app?.close();
});

/**
 * The activities a worker runs at once: the SDK compiles maxConcurrentActivityTaskExecutions into its
 * public tuner shape, a fixed-size activity slot supplier (any other shape fails the test).
 */
function activitySlots(w: Worker): number {
  const supplier = w.options.tuner.activityTaskSlotSupplier as SlotSupplier<ActivitySlotInfo>;
  if (supplier.type !== 'fixed-size')
    throw new Error(`activity slots of type ${supplier.type}, not fixed-size`);
  return supplier.numSlots;
}

/** The send workers a worker process would start with these variables, and what each was told. */
async function sendWorkersWith(env: Record<string, string>) {
  const connection = await connectWorker(app.temporal);
  try {
    const workers: Worker[] = await configuredSendWorkers({
      sql: app.sql,
      config: loadConfig({ ...process.env, ...env }),
      connection,
      namespace: app.temporal.namespace,
      activities: testActivities(app),
    });
    const told = workers.map((w) => ({
      taskQueue: w.options.taskQueue,
      batchesAtOnce: activitySlots(w),
    }));
    // each polls its queue, as in a worker process, and stops
    const running = workers.map((w) => w.run());
    workers.forEach((w) => w.shutdown());
    await Promise.all(running);
    return told;
  } finally {
    await connection.close();
  }
}

describe('a send worker process', () => {
  it('sends WORKER_SEND_BATCHES batches of each account at once, 16 unless set', async () => {
    const set = await sendWorkersWith({ WORKER_SEND_BATCHES: '64' });
    expect(set.length).toBeGreaterThan(0);
    for (const w of set) expect(w.batchesAtOnce).toBe(64);
    for (const w of await sendWorkersWith({})) expect(w.batchesAtOnce).toBe(16);
  });

  it('hosts only the accounts WORKER_SEND_ACCOUNTS names', async () => {
    expect(await sendWorkersWith({ WORKER_SEND_ACCOUNTS: 'none' })).toEqual([]);
    const accounts = await listActiveAccounts(app.sql);
    expect((await sendWorkersWith({ WORKER_SEND_ACCOUNTS: 'all' })).map((w) => w.taskQueue).sort()).toEqual(
      accounts.map((a) => a.taskQueue).sort(),
    );
    const sms = accounts.find((a) => a.key === 'outbox-sms')!;
    expect(await sendWorkersWith({ WORKER_SEND_ACCOUNTS: 'outbox-sms' })).toEqual([
      { taskQueue: sms.taskQueue, batchesAtOnce: 16 },
    ]);
  });
});
