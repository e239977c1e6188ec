// How one cap is split between the worker processes sending under it: each process's due share, and the
// share it may hold next given what the others hold and what its own send window still counts.

/** One process's row for a limiter, as the database holds it. */
export interface Holding {
  holder: string;
  /** the share it holds: its window may count this many sends */
  have: number;
  /** it has sends waiting or going under this cap */
  wants: boolean;
  /** its lease ran out (it stopped sending); the share still counts until its grace has passed too */
  expired: boolean;
}

/**
 * The cap split evenly between the live processes that want it; a remainder too small to split
 * (a sender number at 1 a second between two processes) goes round among them, one turn per
 * rotation period, so none of them waits for ever.
 */
export function dueShare(cap: number, holdings: readonly Holding[], holder: string, turn: number): number {
  const wanting = holdings
    .filter((h) => h.wants && !h.expired)
    .map((h) => h.holder)
    .sort();
  const at = wanting.indexOf(holder);
  if (at < 0) return 0;
  const n = wanting.length;
  const extra = (((at - turn) % n) + n) % n < cap % n ? 1 : 0;
  return Math.floor(cap / n) + extra;
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
 * sends, started after this share is written, reach too. A process wanting nothing drains to 0.
 */
export function nextShare(opts: {
  cap: number;
  holdings: readonly Holding[];
  holder: string;
  wants: boolean;
  used: number;
  turn: number;
}): NextShare {
  const { cap, holder } = opts;
  const mine = opts.holdings.find((h) => h.holder === holder);
  const have = mine?.have ?? 0;
  const others = opts.holdings.filter((h) => h.holder !== holder);
  const mineNow: Holding = { holder, have, wants: opts.wants, expired: false };
  const due = dueShare(cap, [...others, mineNow], holder, opts.turn);
  if (due >= have) {
    const free = cap - have - others.reduce((sum, h) => sum + h.have, 0);
    const grown = Math.min(due, have + Math.max(0, free));
    return { have: grown, limit: grown };
  }
  return { have: Math.min(have, Math.max(due, opts.used)), limit: due };
}
