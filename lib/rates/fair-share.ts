// How one cap is split between the worker processes sending under it: each process's due share, and the
// share it may hold next given what the others hold and what its own send window still counts.

/** One process's row for a limiter, as the database holds it. */
export interface Holding {
  holder: string;
  /** the share it holds: its window may count this many sends */
  have: number;
  /** hungry: a send of it found its window full within the last second (it could use more) */
  wants: boolean;
  /** its lease ran out (it stopped sending); the share still counts until its grace has passed too */
  expired: boolean;
}

/** What a process's window has seen lately: no sends, sends it had room for, or sends that waited for room. */
export type Demand = 'idle' | 'busy' | 'hungry';

/** A busy process keeps this much above what its window counts when a hungry one could use the rest. */
const BUSY_MARGIN = 0.1;

/**
 * A hungry process's due: what the others that are not hungry hold (they have room to spare) is
 * theirs, and the rest is split evenly between the hungry ones; a remainder too small to split (a
 * sender number at 1 a second between two processes) goes round among them, one turn per rotation
 * period, so none of them waits for ever.
 */
export function dueShare(cap: number, holdings: readonly Holding[], holder: string, turn: number): number {
  const hungry = holdings.filter((h) => h.wants && !h.expired);
  const names = hungry.map((h) => h.holder).sort();
  const at = names.indexOf(holder);
  if (at < 0) return 0;
  const pool = Math.max(0, cap - holdings.filter((h) => !hungry.includes(h)).reduce((s, h) => s + h.have, 0));
  const n = names.length;
  const extra = (((at - turn) % n) + n) % n < pool % n ? 1 : 0;
  return Math.floor(pool / n) + extra;
}

export interface NextShare {
  /** the share to write for this process */
  have: number;
  /** what its send window may count from now on (never more than `have`) */
  limit: number;
}

/**
 * The next share of `holder`, whose row (if any) is among `holdings`. Growing takes only capacity no
 * row holds, so the shares never add up to more than the cap. Shrinking lowers the window at once
 * and gives back only what the window no longer counts (`used`: sends in flight or answered in the
 * last second): a send counted now may still reach the vendor in a second that another process's
 * sends, started after this share is written, reach too.
 *
 * A hungry process aims at its due share; a busy one keeps its share, or, while another is hungry,
 * what it uses and a margin; an idle one drains to 0. A lone process thus holds the whole cap.
 */
export function nextShare(opts: {
  cap: number;
  holdings: readonly Holding[];
  holder: string;
  demand: Demand;
  used: number;
  turn: number;
}): NextShare {
  const { cap, holder, used } = opts;
  const have = opts.holdings.find((h) => h.holder === holder)?.have ?? 0;
  const others = opts.holdings.filter((h) => h.holder !== holder);
  const mine: Holding = { holder, have, wants: opts.demand === 'hungry', expired: false };
  let target: number;
  if (opts.demand === 'hungry') target = dueShare(cap, [...others, mine], holder, opts.turn);
  else if (opts.demand === 'idle') target = 0;
  else if (others.some((h) => h.wants && !h.expired))
    target = Math.min(have, used + Math.ceil(used * BUSY_MARGIN) + 1);
  else target = have;
  target = Math.min(target, cap);
  if (target >= have) {
    const free = cap - have - others.reduce((sum, h) => sum + h.have, 0);
    const grown = Math.min(target, have + Math.max(0, free));
    return { have: grown, limit: grown };
  }
  return { have: Math.min(have, Math.max(target, used)), limit: target };
}
