// Collects send outcomes and writes them in small transactions, so the database keeps up at thousands of sends a second.
import type { Sql } from '../db';
import { recordOutcomes, type Outcome, type RecordScope } from './record';

export interface OutcomeBuffer {
  add(outcome: Outcome): void;
  /** writes everything collected so far; resolves when it is committed */
  flush(): Promise<void>;
  counts: Record<Outcome['kind'], number>;
}

/**
 * Short intervals keep the window small in which a crash leaves an accepted message in 'sending'
 * (such a message is reconciled, not resent, so a wider window costs lookups, not duplicates).
 */
export function createOutcomeBuffer(
  sql: Sql,
  scope: RecordScope,
  opts: { maxItems?: number; maxDelayMs?: number } = {},
): OutcomeBuffer {
  const maxItems = opts.maxItems ?? 200;
  const maxDelayMs = opts.maxDelayMs ?? 100;
  let pending: Outcome[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  const counts: OutcomeBuffer['counts'] = { sent: 0, failed: 0, retry: 0, unknown: 0 };

  const write = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length) {
      // writes stay in order: a later outcome never overtakes an earlier one
      chain = chain
        .then(() => recordOutcomes(sql, scope, batch))
        .catch((err: unknown) => {
          failure ??= err;
        });
    }
    return chain.then(() => {
      if (failure) throw failure;
    });
  };

  return {
    counts,
    add(outcome) {
      counts[outcome.kind]++;
      pending.push(outcome);
      if (pending.length >= maxItems) void write().catch(() => {});
      else timer ??= setTimeout(() => void write().catch(() => {}), maxDelayMs);
    },
    flush: write,
  };
}
