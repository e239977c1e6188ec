import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { SendLease } from '../lib/send-lease';
import { openTestApp } from './support/harness';

let app: App;
beforeAll(async () => {
  app = await openTestApp();
});
afterAll(async () => {
  await app?.close();
});

const TIMES = { leaseMs: 30_000, graceMs: 1000 };
/** what an acquire says, its fence rounded to none when it has passed */
const acquired = async (lease: SendLease) => {
  const { fenceMs, fresh } = await lease.acquire();
  return { fenced: fenceMs > 0, fresh };
};

describe("a batch's send lease", () => {
  it('is fresh only where no attempt held it: a later attempt takes it over and must take on earlier claims', async () => {
    const token = `test-${randomUUID()}`;
    const first = new SendLease(app.sql, token, TIMES, app.log);
    const second = new SendLease(app.sql, token, TIMES, app.log);
    try {
      expect(await acquired(first)).toEqual({ fenced: false, fresh: true });
      // the first holder's row is there: the second attempt has its claims to take on, after its fence
      const taken = await second.acquire();
      expect(taken.fresh).toBe(false);
      expect(taken.fenceMs).toBeGreaterThan(TIMES.leaseMs);
    } finally {
      await first.release(0, [0]).catch(() => undefined);
      await second.release(0, [0]);
    }
    // given back with nothing left in 'sending', the row is gone: the next attempt starts fresh
    const third = new SendLease(app.sql, token, TIMES, app.log);
    expect(await acquired(third)).toEqual({ fenced: false, fresh: true });
    await third.release(0, [0]);
  });
});
