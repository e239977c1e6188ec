import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SendWindow, enterWindows } from '../../lib/rates/send-window';
import { maxInAnySecond } from '../support/dispatch';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A vendor whose arrival stamp falls anywhere between the start of a request and its answer, as a
 * loaded network or a starved vendor process would make it: bunched, late, out of order.
 */
async function request(arrivals: number[], jitter: () => number): Promise<void> {
  await pause(jitter());
  arrivals.push(performance.timeOrigin + performance.now());
  await pause(jitter());
}

describe('send windows', () => {
  it('never let more than the cap arrive in any second, however the requests are delayed, and keep close to it', async () => {
    const cap = 40;
    const window = new SendWindow(cap);
    const arrivals: number[] = [];
    // a spread of delays, some long, so arrivals bunch up the way they did under load
    const jitter = () => (Math.random() < 0.1 ? 40 + Math.random() * 80 : Math.random() * 5);
    const sends: Promise<void>[] = [];
    const started = performance.now();
    for (let i = 0; i < 4 * cap; i++) {
      const release = await enterWindows([window]);
      sends.push(request(arrivals, jitter).finally(release));
    }
    await Promise.all(sends);
    expect(arrivals).toHaveLength(4 * cap);
    expect(maxInAnySecond(arrivals)).toBeLessThanOrEqual(cap);
    // four seconds' worth in little more than three (the first second needs no wait): the guard does not starve sends
    expect(performance.now() - started).toBeLessThan(4_500);
  });

  it('take a place in every window of a send at once, and hold each to its own cap', async () => {
    const account = new SendWindow(10);
    const senders = [new SendWindow(3), new SendWindow(3)];
    const arrivals: { sender: number; at: number }[] = [];
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 12; i++) {
      const sender = i % 2;
      const release = await enterWindows([account, senders[sender]!]);
      const stamped: number[] = [];
      sends.push(
        request(stamped, () => Math.random() * 3)
          .then(() => void arrivals.push({ sender, at: stamped[0]! }))
          .finally(release),
      );
    }
    await Promise.all(sends);
    for (const sender of [0, 1]) {
      const times = arrivals.filter((a) => a.sender === sender).map((a) => a.at);
      expect(times).toHaveLength(6);
      expect(maxInAnySecond(times)).toBeLessThanOrEqual(3);
    }
    expect(maxInAnySecond(arrivals.map((a) => a.at))).toBeLessThanOrEqual(10);
  });

  it('count a send until a second after its answer, not from its start', async () => {
    const window = new SendWindow(1);
    const release = await enterWindows([window]);
    await pause(300);
    release();
    const answered = performance.now();
    const second = await enterWindows([window]);
    // the first request could have reached the vendor just before its answer, so the next waits a full second from there
    expect(performance.now() - answered).toBeGreaterThanOrEqual(999);
    second();
  });

  it('keep a send that waits on a share wanting its place, and let it in once the share comes', async () => {
    const window = new SendWindow(5);
    window.setShare(0);
    let starved = 0;
    window.onShort = () => void starved++;
    const entering = enterWindows([window]);
    const since = performance.now();
    await pause(1_200);
    // nothing was answered, so no answer ages out: only looking again keeps the window wanted (and its
    // share asked for); a window left unwanted would be forgotten with the send still waiting in it
    expect(window.lastWanted).toBeGreaterThan(since + 700);
    expect(starved).toBeGreaterThanOrEqual(3);
    expect(window.waiting).toBe(1);
    window.setShare(1);
    const release = await entering;
    expect(window.used(performance.now())).toBe(1);
    expect(window.waiting).toBe(0);
    release();
  });

  it("leave nothing behind on a batch's signal when a send that waited gets in", async () => {
    const window = new SendWindow(2);
    const lease = new AbortController();
    for (let i = 0; i < 4; i++) {
      const release = await enterWindows([window], lease.signal);
      expect(release).toBeDefined();
      release!();
    }
    // the third waited for the first two to age out, listening for the abort meanwhile
    expect(getEventListeners(lease.signal, 'abort')).toHaveLength(0);
  });

  it('stop a waiting send when the signal aborts', async () => {
    const window = new SendWindow(1);
    const lease = new AbortController();
    const first = await enterWindows([window], lease.signal);
    const waiting = enterWindows([window], lease.signal);
    await pause(50);
    lease.abort();
    expect(await waiting).toBeUndefined();
    expect(window.used(performance.now())).toBe(1);
    first!();
  });

  it('refuse a cap under one send a second', () => {
    expect(() => new SendWindow(0)).toThrow(/at least 1 per second/);
  });
});
