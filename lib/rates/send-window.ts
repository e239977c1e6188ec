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
  /** performance.now of the last send that found no room */
  lastFull = -Infinity;
  /** called when a send wants a place the window has no share for */
  onStarved: (() => void) | undefined;

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

  /** A send wants a place: the share keeps it wanted, and a window without one asks for one at once. */
  want(now: number): void {
    this.lastWanted = now;
    if (this.room(now) === 0) this.onStarved?.();
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
  for (;;) {
    if (signal?.aborted) return undefined;
    const now = performance.now();
    for (const w of list) w.want(now);
    const full = list.filter((w) => w.used(now) >= w.room(now));
    for (const w of full) w.lastFull = now;
    if (!full.length) break;
    stop ??= signal
      ? new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
      : undefined;
    await Promise.race([...full.map((w) => w.changed(now)), ...(stop ? [stop] : [])]);
  }
  for (const w of list) w.take();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    for (const w of list) w.release();
  };
}
