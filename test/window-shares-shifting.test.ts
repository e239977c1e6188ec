import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { App } from '../lib/app';
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

const pause = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

const CAP = 100;
/** the shared send times space sends this far below the cap (SEND_RATE_HEADROOM_PERCENT's default) */
const SLOT_RATE = CAP * 0.97;
/** a batch reserves this many consecutive send times at once (a slice of 50 ms of them, as the pacer does) */
const SLICE = Math.round(SLOT_RATE / 20);
const HOLDERS = 3;
/** how the slices are spread over the holders: most go to one, and that one changes every phase */
const WEIGHTS = [
  [6, 2, 1],
  [1, 6, 2],
  [2, 1, 6],
];
const PHASE_S = 4;
/** how far ahead of its time a send is announced: the pacer claims a chunk (250 ms of sends) while the one before it is sent */
const AHEAD_MS = 250;

/**
 * Send times as the shared slots give them (one account at 0.97 of the cap, a slice of consecutive times per
 * batch), spread over three processes whose share of the work moves from one to the next every two seconds:
 * the demand of a process swings between a tenth and two thirds of the cap, as batches come and go.
 */
function schedule(seconds: number, start: number): { at: number; holder: number }[] {
  const out: { at: number; holder: number }[] = [];
  const total = Math.round(seconds * SLOT_RATE);
  let slice = 0;
  for (let i = 0; i < total; i += SLICE, slice++) {
    const weights = WEIGHTS[Math.floor(i / SLOT_RATE / PHASE_S) % WEIGHTS.length]!;
    // a fixed interleaving of holders by weight (a pattern of 9 slices)
    const pattern = weights.flatMap((w, h) => Array<number>(w).fill(h));
    const holder = pattern[(slice * 5) % pattern.length]!;
    for (let j = i; j < Math.min(total, i + SLICE); j++)
      out.push({ at: start + (j * 1000) / SLOT_RATE, holder });
  }
  return out;
}

/** A request whose arrival falls anywhere in its first few ms, answered a few ms later (the local stand-in's pace). */
async function request(arrivals: number[]): Promise<void> {
  await pause(Math.random() * 5);
  arrivals.push(performance.timeOrigin + performance.now());
  await pause(Math.random() * 5);
}

it('keeps processes whose demand moves between them close to the cap together, never over it in a second', async () => {
  const key = `test:${randomUUID()}`;
  const holders = Array.from({ length: HOLDERS }, () => new WindowShares(app.sql, app.log, 500));
  const seconds = 12;
  const start = Date.now() + 500;
  const sends = schedule(seconds, start);
  const arrivals: number[] = [];
  // each send goes at its time, or as soon after it as its process's window allows; as the pacer does, a
  // process announces its sends a chunk ahead, when it claims them
  await Promise.all(
    holders.map(async (shares, h) => {
      const window = shares.window(key, CAP);
      const mine = sends.filter((s) => s.holder === h);
      const inflight: Promise<void>[] = [];
      const due = (at: number) => performance.now() + (at - Date.now());
      const dueOf = new Map<(typeof mine)[number], number>();
      let announced = 0;
      for (const s of mine) {
        for (; announced < mine.length && mine[announced]!.at <= s.at + AHEAD_MS; announced++) {
          const a = mine[announced]!;
          dueOf.set(a, due(a.at));
          window.announce(dueOf.get(a)!);
        }
        await pause(s.at - Date.now());
        const release = await enterWindows([window]);
        window.settle(dueOf.get(s)!);
        inflight.push(request(arrivals).finally(release));
      }
      await Promise.all(inflight);
    }),
  );
  await Promise.all(holders.map((s) => s.close()));
  expect(arrivals.length).toBe(sends.length);
  expect(maxInAnySecond(arrivals)).toBeLessThanOrEqual(CAP);
  // the first second is the first window's lease; from then on the sends keep up with their times
  const steady = arrivals.sort((a, b) => a - b).filter((t) => t >= start + 1000);
  const rate = (steady.length - 1) / ((steady.at(-1)! - steady[0]!) / 1000);
  console.log(`window shares over shifting demand: ${rate.toFixed(1)} a second of a cap of ${CAP}`);
  // the shares split evenly between whoever ran full kept them at 0.85-0.88 of the cap; by what each needs,
  // 0.94-0.96 (the send times themselves allow 0.97). Kept below that so a loaded machine's lag cannot fail it
  expect(rate).toBeGreaterThanOrEqual(0.92 * CAP);
}, 60_000);
