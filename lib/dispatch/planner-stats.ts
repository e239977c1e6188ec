// Keeps Postgres's statistics on messages fresh before a dispatch: stale ones after a bulk load make claims scan.
import type { Sql, TransactionSql } from '../db';

/** lock_not_available: another session holds a lock that conflicts with ours */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Right after a packet plans 100,000 messages the planner still believes the company has almost
 * none scheduled, and joins a claim's 250 ids against a scan of every scheduled row (200 ms instead
 * of 10). Autovacuum catches up within minutes; a dispatch starting sooner analyzes the table first
 * when more than a tenth of it changed since the last analysis.
 *
 * One analysis at a time, and nobody waits for it: a reminder run starts a dispatch per company,
 * region and channel at once, every one of them finds the same changes, and analyses of one table
 * queue on its lock (seventy of them, each holding a pooled connection, held a run's first text
 * back by ten seconds). A dispatch that finds another analysis (or a vacuum) under way goes on with
 * the statistics it has; that analysis refreshes them in a moment.
 */
export async function refreshMessageStats(sql: Sql): Promise<boolean> {
  if (!(await stale(sql))) return false;
  try {
    return (await sql.begin(async (t) => {
      const tx = t as TransactionSql;
      // what ANALYZE itself takes, asked for without waiting
      await tx`lock table messages in share update exclusive mode nowait`;
      // another analysis may have ended between the look and the lock
      if (!(await stale(tx))) return false;
      await tx`analyze messages`;
      return true;
    })) as boolean;
  } catch (err) {
    if ((err as { code?: string }).code === LOCK_NOT_AVAILABLE) return false;
    throw err;
  }
}

async function stale(sql: Sql | TransactionSql): Promise<boolean> {
  const [stats] = await sql<{ changed: number; rows: number }[]>`
    select coalesce(s.n_mod_since_analyze, 0)::float8 as changed, greatest(c.reltuples, 0)::float8 as rows
    from pg_class c left join pg_stat_user_tables s on s.relid = c.oid
    where c.oid = 'messages'::regclass`;
  return !!stats && stats.changed >= Math.max(10_000, stats.rows / 10);
}
