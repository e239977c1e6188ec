import { describe, expect, it } from 'vitest';
import { dueShare, nextShare, type Holding } from '../../lib/rates/fair-share';
import { SendWindow, enterWindows } from '../../lib/rates/send-window';

const row = (holder: string, have: number, wants = true, expired = false): Holding => ({
  holder,
  have,
  wants,
  expired,
});

describe('shares of a cap between worker processes', () => {
  it('give a lone process the whole cap at once', () => {
    expect(nextShare({ cap: 500, holdings: [], holder: 'a', demand: 'hungry', used: 0, turn: 0 })).toEqual({
      have: 500,
      limit: 500,
    });
  });

  it('let a newcomer grow only into capacity nobody holds', () => {
    const holdings = [row('a', 500)];
    expect(nextShare({ cap: 500, holdings, holder: 'b', demand: 'hungry', used: 0, turn: 0 })).toEqual({
      have: 0,
      limit: 0,
    });
    expect(
      nextShare({
        cap: 500,
        holdings: [row('a', 320), row('b', 0)],
        holder: 'b',
        demand: 'hungry',
        used: 0,
        turn: 0,
      }),
    ).toEqual({ have: 180, limit: 180 });
  });

  it('shrink the window at once but give back only what it no longer counts', () => {
    const holdings = [row('a', 500), row('b', 0)];
    // a still counts 400 sends of the last second: its window may start no more than 250, and it keeps 400
    expect(nextShare({ cap: 500, holdings, holder: 'a', demand: 'hungry', used: 400, turn: 0 })).toEqual({
      have: 400,
      limit: 250,
    });
    expect(nextShare({ cap: 500, holdings, holder: 'a', demand: 'hungry', used: 120, turn: 0 })).toEqual({
      have: 250,
      limit: 250,
    });
  });

  it('drain an idle process to nothing', () => {
    const holdings = [row('a', 500, false)];
    expect(nextShare({ cap: 500, holdings, holder: 'a', demand: 'idle', used: 30, turn: 0 })).toEqual({
      have: 30,
      limit: 0,
    });
    expect(nextShare({ cap: 500, holdings, holder: 'a', demand: 'idle', used: 0, turn: 0 })).toEqual({
      have: 0,
      limit: 0,
    });
  });

  it('leave a busy process what it uses while another is hungry, and the hungry one the rest', () => {
    // b's window has room to spare (it counts 100 of its 250): it keeps 10% above that
    const holdings = [row('a', 250), row('b', 250, false)];
    expect(nextShare({ cap: 500, holdings, holder: 'b', demand: 'busy', used: 100, turn: 0 })).toEqual({
      have: 111,
      limit: 111,
    });
    const after = [row('a', 250), row('b', 111, false)];
    expect(dueShare(500, after, 'a', 0)).toBe(389);
    expect(
      nextShare({ cap: 500, holdings: after, holder: 'a', demand: 'hungry', used: 250, turn: 0 }),
    ).toEqual({
      have: 389,
      limit: 389,
    });
    // with nobody hungry, a busy process keeps what it holds
    expect(
      nextShare({
        cap: 500,
        holdings: [row('b', 500, false)],
        holder: 'b',
        demand: 'busy',
        used: 10,
        turn: 0,
      }),
    ).toEqual({ have: 500, limit: 500 });
  });

  it('count an expired share against the cap until it is deleted, but give it no part', () => {
    const holdings = [row('a', 300, true, true), row('b', 200)];
    expect(dueShare(500, holdings, 'a', 0)).toBe(0);
    expect(dueShare(500, holdings, 'b', 0)).toBe(200);
    expect(nextShare({ cap: 500, holdings, holder: 'b', demand: 'hungry', used: 0, turn: 0 })).toEqual({
      have: 200,
      limit: 200,
    });
    // once deleted (after its grace), the rest is free
    expect(
      nextShare({ cap: 500, holdings: [row('b', 200)], holder: 'b', demand: 'hungry', used: 0, turn: 0 }),
    ).toEqual({ have: 500, limit: 500 });
  });

  it('hand a cap too small to split round among the processes that want it', () => {
    const holdings = [row('a', 0), row('b', 0)];
    const turns = [0, 1, 2, 3].map((turn) => [
      dueShare(1, holdings, 'a', turn),
      dueShare(1, holdings, 'b', turn),
    ]);
    expect(turns).toEqual([
      [1, 0],
      [0, 1],
      [1, 0],
      [0, 1],
    ]);
    // 5 between 3 processes: 2, 2, 1, the 1 moving on each turn
    const three = [row('a', 0), row('b', 0), row('c', 0)];
    for (const turn of [0, 1, 2]) {
      const dues = ['a', 'b', 'c'].map((h) => dueShare(5, three, h, turn));
      expect(dues.reduce((s, d) => s + d, 0)).toBe(5);
      expect(dues.sort()).toEqual([1, 2, 2]);
    }
  });

  it('never add up to more than the cap, however renewals interleave, and never let a window count more than its share', () => {
    for (let trial = 0; trial < 200; trial++) {
      const cap = 1 + Math.floor(Math.random() * 20);
      const holders = ['a', 'b', 'c'];
      const table = new Map<string, Holding>();
      const used = new Map(holders.map((h) => [h, 0]));
      const limit = new Map(holders.map((h) => [h, 0]));
      for (let step = 0; step < 60; step++) {
        const holder = holders[Math.floor(Math.random() * holders.length)]!;
        const demand = (['idle', 'busy', 'hungry'] as const)[Math.floor(Math.random() * 3)]!;
        // the window counts at most what it was allowed, and falls as sends age out
        used.set(holder, Math.floor(Math.random() * (limit.get(holder)! + 1)));
        const next = nextShare({
          cap,
          holdings: [...table.values()],
          holder,
          demand,
          used: used.get(holder)!,
          turn: Math.floor(step / 7),
        });
        expect(next.limit).toBeLessThanOrEqual(next.have);
        expect(next.have).toBeGreaterThanOrEqual(Math.min(used.get(holder)!, table.get(holder)?.have ?? 0));
        limit.set(holder, next.limit);
        table.set(holder, { holder, have: next.have, wants: demand === 'hungry', expired: false });
        expect([...table.values()].reduce((s, h) => s + h.have, 0)).toBeLessThanOrEqual(cap);
      }
    }
  });

  it('reach a fair split once everyone has renewed with drained windows', () => {
    const table = new Map<string, Holding>([['a', row('a', 500)]]);
    for (let round = 0; round < 3; round++) {
      for (const holder of ['a', 'b']) {
        const next = nextShare({
          cap: 500,
          holdings: [...table.values()],
          holder,
          demand: 'hungry',
          used: 0,
          turn: 0,
        });
        table.set(holder, row(holder, next.have));
      }
    }
    expect(table.get('a')!.have).toBe(250);
    expect(table.get('b')!.have).toBe(250);
  });
});

describe('a send window with a share', () => {
  it('starts nothing without a share, and wakes its waiting sends when one comes', async () => {
    const window = new SendWindow(10);
    window.setShare(0, -Infinity);
    let starved = 0;
    window.onStarved = () => starved++;
    let entered = false;
    const waiting = enterWindows([window]).then((release) => {
      entered = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(entered).toBe(false);
    expect(starved).toBeGreaterThan(0);
    window.setShare(1, performance.now() + 1000);
    (await waiting)();
    expect(entered).toBe(true);
  });

  it('stops starting sends when its lease runs out', () => {
    const window = new SendWindow(10);
    const now = performance.now();
    window.setShare(5, now + 100);
    expect(window.room(now)).toBe(5);
    expect(window.room(now + 100)).toBe(0);
  });
});
