// How one cap is split between the worker processes sending under it: each process's due share, and the
// share it may hold next given what the others hold and what its own send window still counts.

/** One process's row for a limiter, as the database holds it. */
export interface Holding {
  holder: string;
  /** the share it holds: its window may count this many sends */
  have: number;
  /** hungry: it has sends waiting for a place or due within moments (their send times reserved) */
  wants: boolean;
  /** the places it would count soon had it room: those its window will still count, and `coming` */
  needs: number;
  /** the sends announced as due by then (their send times reserved), or owed for the time it is late */
  coming: number;
  /** its lease ran out (it stopped sending); the share still counts until its grace has passed too */
  expired: boolean;
}

/** A hungry process may grow this far beyond what it needs, so a rate that grows needs no renewal first. */
const HUNGRY_MARGIN = 0.1;
/** One with no sends coming keeps this much above what its window counts, while the count drains. */
const BUSY_MARGIN = 0.1;

/** What a hungry process aims at: what it needs and a margin. */
export const aim = (needs: number) => needs + Math.ceil(needs * HUNGRY_MARGIN);

/**
 * A hungry process's due: what the others that are not hungry hold is theirs, and the rest is split
 * between the hungry ones in proportion to what they need, each weighing at least an even part, and
 * one whose sends were not announced (it cannot say how many more it has) weighing an even part; what a
 * process's part holds beyond its aim goes to the others in the same proportions. A remainder too
 * small to split (a sender number at 1 a second between two processes) goes round among them, one
 * turn per rotation period, so none of them waits for ever.
 */
export function dueShare(cap: number, holdings: readonly Holding[], holder: string, turn: number): number {
  const hungry = holdings.filter((h) => h.wants && !h.expired);
  if (!hungry.some((h) => h.holder === holder)) return 0;
  let pool = Math.max(0, cap - holdings.filter((h) => !hungry.includes(h)).reduce((s, h) => s + h.have, 0));
  const floor = pool / hungry.length;
  // sends not announced do not say how many more there are: such a process weighs an even part
  const weight = (h: Holding) => (h.coming > 0 ? Math.max(h.needs, floor) : floor);
  let splitting = hungry;
  for (;;) {
    const total = splitting.reduce((s, h) => s + weight(h), 0);
    if (!total) return 0;
    const sated = splitting.filter((h) => aim(h.needs) <= (pool * weight(h)) / total);
    if (!sated.length) break;
    const mine = sated.find((h) => h.holder === holder);
    if (mine) return aim(mine.needs);
    pool -= sated.reduce((s, h) => s + aim(h.needs), 0);
    splitting = splitting.filter((h) => !sated.includes(h));
  }
  const total = splitting.reduce((s, h) => s + weight(h), 0);
  const part = (h: Holding) => Math.floor((pool * weight(h)) / total);
  const names = splitting.map((h) => h.holder).sort();
  const n = names.length;
  const at = names.indexOf(holder);
  const left = pool - splitting.reduce((s, h) => s + part(h), 0);
  const extra = (((at - turn) % n) + n) % n < left ? 1 : 0;
  return Math.max(
    part(splitting.find((h) => h.holder === holder)!) + extra,
    followDemand(cap, holdings, holder),
  );
}

/**
 * What a hungry process may hold when the places that come free go to the announced sends coming: what
 * it will still count anyway, and a part of what nobody will, in proportion to its sends coming. A share thus
 * moves from a process whose sends thinned out to one whose sends thickened as fast as the first one's
 * window drains, whatever the weights above make of the first one's last second.
 */
function followDemand(cap: number, holdings: readonly Holding[], holder: string): number {
  const live = holdings.filter((h) => !h.expired);
  const keeps = (h: Holding) => Math.max(0, h.needs - h.coming);
  const held = holdings.filter((h) => h.expired).reduce((s, h) => s + h.have, 0);
  const spare = Math.max(0, cap - held - live.reduce((s, h) => s + keeps(h), 0));
  const coming = live.reduce((s, h) => s + h.coming, 0);
  const mine = live.find((h) => h.holder === holder);
  if (!mine?.coming) return 0;
  return keeps(mine) + Math.floor((spare * mine.coming) / coming);
}

export interface NextShare {
  /** the share to write for this process */
  have: number;
  /** what its send window may count from now on (never more than `have`) */
  limit: number;
}

/**
 * The next share of `holder`, whose row (if any) is among `holdings`, given what its window counts
 * (`used`: sends in flight or answered in the last second) and how many sends will want a place soon
 * (`upcoming`). Growing takes only capacity no row holds, so the shares never add up to more than the
 * cap. Shrinking lowers the window at once and gives back only what the window no longer counts: a
 * send counted now may still reach the vendor in a second that another process's sends, started
 * after this share is written, reach too.
 *
 * A hungry process aims at what it needs and a margin, within its due share; one with no sends coming
 * keeps only what its window counts and a margin, so its share drains to 0 as its last sends age out
 * and what no process needs stays unheld: a process whose sends start grows into it at once. A lone
 * process may hold the whole cap.
 */
export function nextShare(opts: {
  cap: number;
  holdings: readonly Holding[];
  holder: string;
  used: number;
  needs: number;
  coming: number;
  wants: boolean;
  turn: number;
}): NextShare {
  const { cap, holder, used, needs, coming, wants } = opts;
  const have = opts.holdings.find((h) => h.holder === holder)?.have ?? 0;
  const others = opts.holdings.filter((h) => h.holder !== holder);
  const mine: Holding = { holder, have, wants, needs, coming, expired: false };
  const target = Math.min(
    cap,
    wants
      ? Math.min(dueShare(cap, [...others, mine], holder, opts.turn), aim(needs))
      : used
        ? Math.min(have, used + Math.ceil(used * BUSY_MARGIN) + 1)
        : 0,
  );
  if (target >= have) {
    const free = cap - have - others.reduce((sum, h) => sum + h.have, 0);
    const grown = Math.min(target, have + Math.max(0, free));
    return { have: grown, limit: grown };
  }
  return { have: Math.min(have, Math.max(target, used)), limit: target };
}
