// Holds every cap strictly at the vendor: no more than `cap` of one limiter's requests can arrive there in any one second.
//
// The shared send schedule spaces sends, but a schedule is kept by timers and sockets that can run
// late, and a late send next to on-time ones crowds a second. This guard needs no clock at the
// vendor and no spacing: a send starts only while fewer than `cap` of the limiter's sends are in
// flight or were answered within the last second. Why that suffices: the last send to start among
// those arriving in some second [t, t + 1 s) started before t + 1 s, and every other one of them had
// started before it and was answered at or after its arrival, so at or after t, hence within the
// second before that start. All of them were counted when it started, so there are at most `cap`.
// The guard is per process: the schedule and Temporal's task-queue rate are what hold several
// worker processes of one account together.

const SECOND_MS = 1000;

export class SendWindow {
  /** answer times (performance.now) within the last second, oldest first, from `head` on */
  private answered: number[] = [];
  private head = 0;
  private inFlight = 0;
  private wake: (() => void)[] = [];

  constructor(readonly cap: number) {
    if (!(cap >= 1)) throw new RangeError(`a send window needs a cap of at least 1 per second, not ${cap}`);
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

  /** Resolves when this window may have room again: its oldest answer leaves the second, or a send is answered. */
  changed(now: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake.push(resolve);
      const oldest = this.answered[this.head];
      if (oldest !== undefined) setTimeout(resolve, Math.max(0, oldest + SECOND_MS - now) + 0.5);
    });
  }

  take(): void {
    this.inFlight++;
  }

  /** The request is over (answered, refused or broken): it counts for one more second from now. */
  release(): void {
    this.inFlight--;
    this.answered.push(performance.now());
    const waiting = this.wake;
    this.wake = [];
    for (const resolve of waiting) resolve();
  }
}

const windows = new Map<string, SendWindow>();

/** The process's window for a limiter key; a changed cap starts a fresh window (the old one drains on its own). */
export function sendWindow(key: string, perSecond: number): SendWindow {
  // a cap under one a second is the schedule's to space; a one-second window can hold only whole sends
  const cap = Math.max(1, Math.floor(perSecond));
  let window = windows.get(key);
  if (!window || window.cap !== cap) {
    window = new SendWindow(cap);
    windows.set(key, window);
  }
  return window;
}

/**
 * Waits until every window has room, then takes a place in all of them at once (never one while
 * waiting for another, so a slow sender number does not hold account places idle). Returns the
 * release to call once the request is over, whatever its outcome.
 */
export async function enterWindows(list: readonly SendWindow[]): Promise<() => void> {
  for (;;) {
    const now = performance.now();
    const full = list.filter((w) => w.used(now) >= w.cap);
    if (!full.length) break;
    await Promise.race(full.map((w) => w.changed(now)));
  }
  for (const w of list) w.take();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    for (const w of list) w.release();
  };
}
