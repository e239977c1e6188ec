// What a send batch did with its messages, counted (pure: the send activity returns it, workflows add it up).

export interface BatchCounts {
  sent: number;
  failed: number;
  held: number;
  skipped: number;
  unknown: number;
  /** not sent yet because of a transient problem (still scheduled, or in 'sending' awaiting reconciliation) */
  waiting: number;
  /** already final, claimed by another batch, or not this company's / channel's */
  untouched: number;
}

/** Every count at zero, a new object each call (callers add to it). */
export const noCounts = (): BatchCounts => ({
  sent: 0,
  failed: 0,
  held: 0,
  skipped: 0,
  unknown: 0,
  waiting: 0,
  untouched: 0,
});
