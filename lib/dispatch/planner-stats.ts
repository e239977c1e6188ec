// Keeps Postgres's statistics on messages fresh before a dispatch: stale ones after a bulk load make claims scan.
import type { Sql } from '../db';

/**
 * Right after a packet plans 100,000 messages the planner still believes the company has almost
 * none scheduled, and joins a claim's 250 ids against a scan of every scheduled row (200 ms instead
 * of 10). Autovacuum catches up within minutes; a dispatch starting sooner analyzes the table first
 * when more than a tenth of it changed since the last analysis.
 */
export async function refreshMessageStats(sql: Sql): Promise<boolean> {
  const [stats] = await sql<{ changed: number; rows: number }[]>`
    select coalesce(s.n_mod_since_analyze, 0)::float8 as changed, greatest(c.reltuples, 0)::float8 as rows
    from pg_class c left join pg_stat_user_tables s on s.relid = c.oid
    where c.oid = 'messages'::regclass`;
  if (!stats || stats.changed < Math.max(10_000, stats.rows / 10)) return false;
  await sql`analyze messages`;
  return true;
}
