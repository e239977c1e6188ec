// Stops a transaction when the activity running it is cancelled: the statement it runs is cancelled in
// Postgres and the transaction rolls back, so nothing of it commits once an operator has cancelled it.
import type { Sql, TransactionSql } from '../db';

export interface CancellationWatch {
  /** throws the cancellation, if it came: called before the transaction commits, it rolls it back */
  check(): void;
  stop(): void;
}

/**
 * Watches `signal` while `tx` is open. On abort the transaction's running statement is cancelled with
 * pg_cancel_backend, matched by backend and transaction start, so a connection that has already gone
 * back to the pool (and runs someone else's statement) is never touched.
 */
export async function watchCancellation(
  sql: Sql,
  tx: TransactionSql,
  signal: AbortSignal | undefined,
): Promise<CancellationWatch> {
  if (!signal) return { check: () => undefined, stop: () => undefined };
  const [self] = await tx<{ pid: number; started: string }[]>`
    select pg_backend_pid() as pid, now()::text as started`;
  const cancel = () => {
    void sql`
      select pg_cancel_backend(pid) from pg_stat_activity
      where pid = ${self!.pid} and xact_start::text = ${self!.started}`.catch(() => undefined);
  };
  signal.addEventListener('abort', cancel, { once: true });
  return {
    check: () => signal.throwIfAborted(),
    stop: () => signal.removeEventListener('abort', cancel),
  };
}
