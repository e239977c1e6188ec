import { describe, expect, it } from 'vitest';
import { dueShare, nextShare, type Holding } from '../../lib/rates/fair-share';
import { SendWindow, enterWindows } from '../../lib/rates/send-window';

/** A row as the database holds it: hungry when it has sends coming, needing what it keeps and those. */
const row = (holder: string, have: number, coming = 1, keeps = have, expired = false): Holding => ({
  holder,
  have,
  wants: coming > 0,
  needs: keeps + coming,
  coming,
  expired,
});
const hungry = (used: number, coming: number, keeps = used) => ({
  used,
  needs: keeps + coming,
  coming,
  wants: coming > 0,
  turn: 0,
});

describe('shares of a cap between worker processes', () => {
  it('give a lone process what it needs and a margin at once, up to the whole cap', () => {
    expect(nextShare({ cap: 500, holdings: [], holder: 'a', ...hungry(0, 121) })).toEqual({
      have: 134,
      limit: 134,
    });
    expect(nextShare({ cap: 500, holdings: [], holder: 'a', ...hungry(300, 300) })).toEqual({
      have: 500,
      limit: 500,
    });
  });

  it('let a newcomer grow only into capacity nobody holds', () => {
    expect(nextShare({ cap: 500, holdings: [row('a', 500, 300)], holder: 'b', ...hungry(0, 100) })).toEqual({
      have: 0,
      limit: 0,
    });
    expect(
      nextShare({
        cap: 500,
        holdings: [row('a', 450, 300), row('b', 0, 100, 0)],
        holder: 'b',
        ...hungry(0, 100),
      }),
    ).toEqual({ have: 50, limit: 50 });
  });

  it('shrink the window at once but give back only what it no longer counts', () => {
    // b has 300 sends coming, a only 100: a's window may start no more than its part, and it keeps what it counts
    const holdings = [row('a', 500, 100, 0), row('b', 0, 300, 0)];
    const next = nextShare({ cap: 500, holdings, holder: 'a', ...hungry(400, 100, 0) });
    expect(next.limit).toBeLessThan(400);
    expect(next.have).toBe(400);
    expect(nextShare({ cap: 500, holdings, holder: 'a', ...hungry(0, 100, 0) })).toEqual({
      have: next.limit,
      limit: next.limit,
    });
  });

  it('drain a process with no sends coming to nothing as its window empties', () => {
    const holdings = [row('a', 500, 0)];
    expect(nextShare({ cap: 500, holdings, holder: 'a', ...hungry(100, 0) })).toEqual({
      have: 111,
      limit: 111,
    });
    expect(nextShare({ cap: 500, holdings, holder: 'a', ...hungry(0, 0) })).toEqual({ have: 0, limit: 0 });
  });

  it('split the cap between hungry processes by what they need, and give what one cannot use to the others', () => {
    // a needs 400, b 100, c 20 of 300; each weighs at least an even part (100): c aims at less than its
    // part (50), and a and b split what c leaves as 400 to 100
    const holdings = [row('a', 0, 400, 0), row('b', 0, 100, 0), row('c', 0, 20, 0)];
    expect(dueShare(300, holdings, 'c', 0)).toBe(22);
    // a and b: their part of what is left (222 and 55), or of what nobody will count, by their sends
    // coming (300 * 400 / 520 and 300 * 100 / 520), whichever is more; only free capacity is ever taken
    expect(dueShare(300, holdings, 'a', 0)).toBe(230);
    expect(dueShare(300, holdings, 'b', 0)).toBe(57);
  });

  it('move a share to the process whose sends are coming as fast as the other one drains', () => {
    // a will still count 100 of its last second's sends, with 1 more coming; b will count 100, with 300 coming
    const holdings = [row('a', 300, 1, 100), row('b', 100, 300, 100)];
    // by weight b would get 500 * 400 / 650; what nobody will count goes to the sends coming
    expect(dueShare(500, holdings, 'b', 0)).toBe(100 + Math.floor((300 * 300) / 301));
  });

  it('count an expired share against the cap until it is deleted, but give it no part', () => {
    const holdings = [row('a', 300, 1, 300, true), row('b', 200, 300, 200)];
    expect(dueShare(500, holdings, 'a', 0)).toBe(0);
    expect(dueShare(500, holdings, 'b', 0)).toBe(200);
    expect(nextShare({ cap: 500, holdings, holder: 'b', ...hungry(200, 300) })).toEqual({
      have: 200,
      limit: 200,
    });
    // once deleted (after its grace), the rest is free
    expect(nextShare({ cap: 500, holdings: [row('b', 200, 300)], holder: 'b', ...hungry(200, 300) })).toEqual(
      {
        have: 500,
        limit: 500,
      },
    );
  });

  it('hand a cap too small to split round among the processes that want it', () => {
    const holdings = [row('a', 0, 1, 0), row('b', 0, 1, 0)];
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
    const three = [row('a', 0, 9, 0), row('b', 0, 9, 0), row('c', 0, 9, 0)];
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
        // the window counts at most what it was allowed, and falls as sends age out
        used.set(holder, Math.floor(Math.random() * (limit.get(holder)! + 1)));
        const coming = Math.floor(Math.random() * 3) ? Math.floor(Math.random() * 2 * cap) : 0;
        const demand = { ...hungry(used.get(holder)!, coming), turn: Math.floor(step / 7) };
        const next = nextShare({ cap, holdings: [...table.values()], holder, ...demand });
        expect(next.limit).toBeLessThanOrEqual(next.have);
        expect(next.have).toBeGreaterThanOrEqual(Math.min(used.get(holder)!, table.get(holder)?.have ?? 0));
        limit.set(holder, next.limit);
        table.set(holder, { holder, have: next.have, ...demand, expired: false });
        expect([...table.values()].reduce((s, h) => s + h.have, 0)).toBeLessThanOrEqual(cap);
      }
    }
  });

  it('reach a fair split between two processes that would send without end', () => {
    const table = new Map<string, Holding>([['a', row('a', 500, 1)]]);
    const limit = new Map([['a', 500]]);
    for (let round = 0; round < 30; round++) {
      for (const holder of ['a', 'b']) {
        // each window filled what it was allowed since, a third of it ageing out within moments; one send
        // waits, so it needs half as much again as it counts, and that one (SendWindow.demand)
        const used = limit.get(holder) ?? 0;
        const keeps = Math.floor((used * 2) / 3);
        const demand = { ...hungry(used, 0, keeps), needs: Math.ceil(used * 1.5) + 1, wants: true };
        const next = nextShare({ cap: 500, holdings: [...table.values()], holder, ...demand });
        limit.set(holder, next.limit);
        table.set(holder, { holder, have: next.have, ...demand, expired: false });
      }
    }
    expect(table.get('a')!.have).toBeGreaterThanOrEqual(240);
    expect(table.get('b')!.have).toBeGreaterThanOrEqual(240);
  });
});

describe('a send window with a share', () => {
  it('starts nothing without a share, and wakes its waiting sends when one comes', async () => {
    const window = new SendWindow(10);
    window.setShare(0, -Infinity);
    let starved = 0;
    window.onShort = () => starved++;
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
