// Holds every cap strictly at the vendor: no more than `cap` of one limiter's requests can arrive there in any one second.
//
// The shared send times space sends, but they are kept by timers and sockets that can run
// late, and a late send next to on-time ones crowds a second. This guard needs no clock at the
// vendor and no spacing: a send starts only while fewer than `cap` of the limiter's sends are in
// flight or were answered within the last second. Why that suffices: the last send to start among
// those arriving in some second [t, t + 1 s) started before t + 1 s, and every other one of them had
// started before it and was answered at or after its arrival, so at or after t, hence within the
// second before that start. All of them were counted when it started, so there are at most `cap`.
// Several worker processes of one account each hold a share of the cap (`window-shares.ts`), and each
// window counts against its process's share: the shares never add up to more than the cap.

const SECOND_MS = 1000;
/** Announced sends due this soon count as wanting a place: time for a share to grow before they are due. */
const UPCOMING_MS = 300;
/** A send waiting for a share says again this often that it wants a place. */
const WANT_AGAIN_MS = 250;

export class SendWindow {
  /** answer times (performance.now) within the last second, oldest first, from `head` on */
  private answered: number[] = [];
  private head = 0;
  private inFlight = 0;
  private wake: (() => void)[] = [];
  /** the sends it may count: the cap alone, or this process's share of it */
  private limit: number;
  /** performance.now after which the share is no longer ours: nothing starts until it is renewed */
  private validUntil = Infinity;
  /** performance.now of the last send that wanted a place */
  lastWanted = -Infinity;
  /** when the sends announced (their send times reserved) that have not started are due (performance.now), in order */
  private announced: number[] = [];
  /** called when the window needs more places than its share gives it */
  onShort: (() => void) | undefined;

  constructor(cap: number) {
    if (!(cap >= 1)) throw new RangeError(`a send window needs a cap of at least 1 per second, not ${cap}`);
    this.limit = cap;
  }

  /** The sends it may count at `now`: none once its share's lease has run out. */
  room(now: number): number {
    return now < this.validUntil ? this.limit : 0;
  }

  /** Sets the share this window counts against, valid until `validUntil` (performance.now); a larger one wakes waiting sends. */
  setShare(limit: number, validUntil = this.validUntil): void {
    const grew = limit > this.limit || validUntil > this.validUntil;
    this.limit = limit;
    this.validUntil = validUntil;
    if (grew) this.wakeAll();
  }

  /** A send wants a place: the share keeps it wanted, and a window short of places asks for more at once. */
  want(now: number): void {
    this.lastWanted = now;
    // this send among the waiting ones (announced sends asked for their places when announced)
    if (this.used(now) + this.wake.length + 1 > this.room(now)) this.onShort?.();
  }

  /**
   * A send will want a place at `due` (performance.now; its send time is reserved): the share grows
   * for it before it is due, not after it waited. `settle` it when it started or was set aside.
   */
  announce(due: number): void {
    let at = this.announced.length;
    while (at > 0 && this.announced[at - 1]! > due) at--;
    this.announced.splice(at, 0, due);
    const now = performance.now();
    if (due - now < UPCOMING_MS && this.demand(now).needs > this.room(now)) this.onShort?.();
  }

  settle(due: number): void {
    const at = this.announced.indexOf(due);
    if (at >= 0) this.announced.splice(at, 1);
  }

  /**
   * The places this window will need UPCOMING_MS from now, had it room (at least what it counts now
   * while sends wait on it), and whether it is hungry (sends wait for a place or are due by then). It
   * counts what it will still count then, the sends waiting, and `coming`: those announced as due by
   * then and, while the earliest announced send is overdue, what the window's rate owes for the time it
   * is late (a process that fell behind needs more than its next sends, it has the ones behind them too).
   */
  demand(now: number): { needs: number; coming: number; wants: boolean } {
    let soon = 0;
    while (soon < this.announced.length && this.announced[soon]! < now + UPCOMING_MS) soon++;
    const used = this.used(now);
    const late = now - (this.announced[0] ?? now);
    const behind = late > 0 ? Math.ceil((used * Math.min(late, SECOND_MS)) / SECOND_MS) : 0;
    let stillCounted = this.inFlight;
    for (
      let i = this.answered.length - 1;
      i >= this.head && this.answered[i]! > now + UPCOMING_MS - SECOND_MS;
      i--
    )
      stillCounted++;
    const coming = soon + behind;
    const waiting = this.wake.length;
    // sends waiting on a full window: all it counts now was wanted, and more is (how much more, unannounced
    // sends do not say: it asks for half as much again, so a share that is far too small grows in a few renewals)
    const needs = Math.max(
      stillCounted + Math.max(waiting, coming),
      waiting ? Math.ceil(used * 1.5) + waiting : 0,
    );
    return { needs, coming, wants: waiting > 0 || coming > 0 };
  }

  /** sends in flight plus those answered in the last second */
  used(now: number): number {
    while (this.head < this.answered.length && this.answered[this.head]! <= now - SECOND_MS) this.head++;
    if (this.head > 1024 && this.head * 2 > this.answered.length) {
      this.answered = this.answered.slice(this.head);
      this.head = 0;
    }
    return this.inFlight + this.answered.length - this.head;
  }

  /** Resolves when this window may have room again: its oldest answer leaves the second, a send is answered, its share grows, or (waiting on a share alone) a quarter second passed. */
  changed(now: number): Promise<void> {
    return new Promise((resolve) => {
      const oldest = this.answered[this.head];
      // with nothing to age out, room comes only from a share: look again soon, so a waiting send keeps
      // its window wanted (a window nobody wants gives its share back and is forgotten)
      const wait = oldest !== undefined ? Math.max(0, oldest + SECOND_MS - now) + 0.5 : WANT_AGAIN_MS;
      const done = () => {
        clearTimeout(timer);
        const at = this.wake.indexOf(done);
        if (at >= 0) this.wake.splice(at, 1);
        resolve();
      };
      const timer = setTimeout(done, wait);
      this.wake.push(done);
    });
  }

  take(): void {
    this.inFlight++;
  }

  /** The request is over (answered, refused or broken): it counts for one more second from now. */
  release(): void {
    this.inFlight--;
    this.answered.push(performance.now());
    this.wakeAll();
  }

  /** sends waiting for room */
  get waiting(): number {
    return this.wake.length;
  }

  private wakeAll(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const resolve of waiting) resolve();
  }
}

/**
 * Waits until every window has room, then takes a place in all of them at once (never one while
 * waiting for another, so a slow sender number does not hold account places idle). Returns the
 * release to call once the request is over, whatever its outcome; undefined, with no place taken,
 * when `signal` aborts first.
 */
export function enterWindows(list: readonly SendWindow[]): Promise<() => void>;
export function enterWindows(
  list: readonly SendWindow[],
  signal: AbortSignal,
): Promise<(() => void) | undefined>;
export async function enterWindows(
  list: readonly SendWindow[],
  signal?: AbortSignal,
): Promise<(() => void) | undefined> {
  let stop: Promise<void> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    for (;;) {
      if (signal?.aborted) return undefined;
      const now = performance.now();
      for (const w of list) w.want(now);
      const full = list.filter((w) => w.used(now) >= w.room(now));
      if (!full.length) break;
      if (signal && !stop)
        stop = new Promise<void>((resolve) => {
          onAbort = resolve;
          signal.addEventListener('abort', onAbort, { once: true });
        });
      await Promise.race([...full.map((w) => w.changed(now)), ...(stop ? [stop] : [])]);
    }
  } finally {
    // the signal is the whole batch's: a listener left behind by each send that waited would pile up on it
    if (onAbort) signal!.removeEventListener('abort', onAbort);
  }
  for (const w of list) w.take();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    for (const w of list) w.release();
  };
}
