import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { createSql } from '../lib/db';
import { enterWindows } from '../lib/rates/send-window';
import { WindowShares } from '../lib/rates/window-shares';
import { maxInAnySecond } from './support/dispatch';
import { openTestApp } from './support/harness';

let app: App;
beforeAll(async () => {
  app = await openTestApp();
});
afterAll(async () => {
  await app.close();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A request whose arrival falls anywhere between its start and its answer. */
async function request(arrivals: number[], who: string, sent: Map<string, number[]>): Promise<void> {
  await pause(Math.random() * 20);
  const at = performance.timeOrigin + performance.now();
  arrivals.push(at);
  sent.get(who)!.push(at);
  await pause(Math.random() * 20);
}

/** Sends through `shares`' window for `key` as fast as its share allows until `until` (epoch ms). */
async function sendUntil(
  shares: WindowShares,
  key: string,
  cap: number,
  until: () => number,
  arrivals: number[],
  sent: Map<string, number[]>,
  who: string,
  gapMs = 0,
): Promise<void> {
  const inflight = new Set<Promise<void>>();
  while (Date.now() < until()) {
    if (gapMs) await pause(gapMs);
    const release = await enterWindows([shares.window(key, cap)]);
    const p: Promise<void> = request(arrivals, who, sent)
      .finally(release)
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
}

describe('send window shares leased through Postgres', () => {
  it('hold one cap between two processes that both send as fast as they may, and split it between them', async () => {
    const key = `test:${randomUUID()}`;
    const cap = 40;
    const a = new WindowShares(app.sql, app.log, 500);
    const b = new WindowShares(app.sql, app.log, 500);
    const arrivals: number[] = [];
    const sent = new Map([
      ['a', [] as number[]],
      ['b', [] as number[]],
    ]);
    const end = Date.now() + 8000;
    await Promise.all([
      sendUntil(a, key, cap, () => end, arrivals, sent, 'a'),
      sendUntil(b, key, cap, () => end, arrivals, sent, 'b'),
    ]);
    await Promise.all([a.close(), b.close()]);
    expect(maxInAnySecond(arrivals)).toBeLessThanOrEqual(cap);
    // both got a fair part once the first had given back half (within a second or two)
    const lateStart = Date.now() - 5000;
    expect(sent.get('a')!.filter((t) => t > lateStart).length).toBeGreaterThan(cap);
    expect(sent.get('b')!.filter((t) => t > lateStart).length).toBeGreaterThan(cap);
    // the pair keeps close to the cap: handing over costs a second or two of the eight
    expect(arrivals.length).toBeGreaterThan(cap * 5);
    const [left] = await app.sql<{ n: number }[]>`
      select count(*)::int as n from send_window_shares where key = ${key}`;
    expect(left!.n).toBe(0);
  }, 60_000);

  it('leave a process that sends a trickle what it uses, and the rest to the one that could send more', async () => {
    const key = `test:${randomUUID()}`;
    const cap = 40;
    const busy = new WindowShares(app.sql, app.log, 500);
    const trickle = new WindowShares(app.sql, app.log, 500);
    const arrivals: number[] = [];
    const sent = new Map([
      ['busy', [] as number[]],
      ['trickle', [] as number[]],
    ]);
    const end = Date.now() + 8000;
    await Promise.all([
      sendUntil(busy, key, cap, () => end, arrivals, sent, 'busy'),
      sendUntil(trickle, key, cap, () => end, arrivals, sent, 'trickle', 200),
    ]);
    await Promise.all([busy.close(), trickle.close()]);
    expect(maxInAnySecond(arrivals)).toBeLessThanOrEqual(cap);
    const last4s = (who: string) => sent.get(who)!.filter((t) => t > end - 4000).length / 4;
    // the trickle (5 a second) keeps sending; the other gets far more than half the cap
    expect(last4s('trickle')).toBeGreaterThan(3);
    expect(last4s('busy')).toBeGreaterThan(0.7 * cap);
  }, 60_000);

  it('hand a cap of 1 a second wanted by two processes to each in turn, never two sends in a second', async () => {
    const key = `test:${randomUUID()}`;
    const a = new WindowShares(app.sql, app.log, 500);
    const b = new WindowShares(app.sql, app.log, 500);
    const arrivals: number[] = [];
    const sent = new Map([
      ['a', [] as number[]],
      ['b', [] as number[]],
    ]);
    // two turns of 10 s at least
    const end = Date.now() + 25_000;
    await Promise.all([
      sendUntil(a, key, 1, () => end, arrivals, sent, 'a'),
      sendUntil(b, key, 1, () => end, arrivals, sent, 'b'),
    ]);
    await Promise.all([a.close(), b.close()]);
    expect(maxInAnySecond(arrivals)).toBeLessThanOrEqual(1);
    expect(sent.get('a')!.length).toBeGreaterThanOrEqual(3);
    expect(sent.get('b')!.length).toBeGreaterThanOrEqual(3);
    // a hand-over costs little: the giver's last send has aged out by the time it would have sent again
    expect(arrivals.length).toBeGreaterThan(0.7 * 25);
  }, 60_000);

  it('let a process that cannot renew stop sending, and the other take the whole cap after its lease and grace', async () => {
    const key = `test:${randomUUID()}`;
    const cap = 20;
    const lostSql = createSql({ url: app.runtime.databaseUrl, actor: 'test', max: 2 });
    const lost = new WindowShares(lostSql, app.log, 200);
    const other = new WindowShares(app.sql, app.log, 200);
    const arrivals: number[] = [];
    const sent = new Map([
      ['lost', [] as number[]],
      ['other', [] as number[]],
    ]);
    let cutAt = Infinity;
    const lostRun = sendUntil(lost, key, cap, () => cutAt + 1000, arrivals, sent, 'lost').catch(
      () => undefined,
    );
    const otherEnd = Date.now() + 14_000;
    const otherRun = sendUntil(other, key, cap, () => otherEnd, arrivals, sent, 'other');
    await pause(3000);
    // its database goes away: renewals fail from here on
    cutAt = Date.now();
    await lostSql.end({ timeout: 0 });
    await otherRun;
    expect(maxInAnySecond(arrivals)).toBeLessThanOrEqual(cap);
    // a lease runs 3 s from the last renewal: nothing starts after it
    expect(Math.max(...sent.get('lost')!)).toBeLessThan(cutAt + 3000 + 100);
    // lease (3 s) + grace (200 ms timeout + 1 s + 1 s margin) later, the other has the whole cap
    const lastSecond = sent.get('other')!.filter((t) => t > otherEnd - 2000);
    expect(lastSecond.length).toBeGreaterThan(1.5 * cap);
    await other.close();
    void lostRun;
  }, 60_000);
});
