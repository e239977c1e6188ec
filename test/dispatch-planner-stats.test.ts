import { describe, expect, it } from 'vitest';
import type { Sql } from '../lib/db';
import { refreshMessageStats } from '../lib/dispatch/planner-stats';
import { withScratchDatabase } from './support/scratch-db';

/** Changes `n` rows of a fresh `messages` table after its analysis, and waits until the statistics count them. */
async function staleMessages(sql: Sql, n: number): Promise<void> {
  await sql`create table messages (id int)`;
  await sql`insert into messages select generate_series(1, ${n})`;
  await sql`analyze messages`;
  const session = await sql.reserve();
  try {
    // a session's counts reach the shared statistics when it goes idle, at most each second or so
    await session`select pg_stat_force_next_flush()`;
    await session`insert into messages select generate_series(1, ${n})`;
  } finally {
    session.release();
  }
  for (;;) {
    const [row] = await sql<{ changed: number }[]>`
      select coalesce(n_mod_since_analyze, 0)::int as changed from pg_stat_user_tables where relname = 'messages'`;
    if ((row?.changed ?? 0) >= n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('statistics on messages before a dispatch', () => {
  it('analyzes a changed table once, and never waits for an analysis already under way', async () => {
    await withScratchDatabase(async (sql) => {
      await staleMessages(sql, 12_000);
      // another analysis under way holds this lock on the table until it ends
      const other = await sql.reserve();
      await other`begin`;
      await other`lock table messages in share update exclusive mode`;
      const ended = new Promise<void>((resolve) =>
        setTimeout(() => {
          void other`rollback`.then(() => {
            other.release();
            resolve();
          });
        }, 8000),
      );
      const started = performance.now();
      const analyzed = await refreshMessageStats(sql);
      const waited = performance.now() - started;
      await ended;
      expect({ analyzed, waitedUnderFourSeconds: waited < 4000 }).toEqual({
        analyzed: false,
        waitedUnderFourSeconds: true,
      });
      // once it is over, the next dispatch analyzes; the one after finds nothing changed
      expect(await refreshMessageStats(sql)).toBe(true);
      expect(await refreshMessageStats(sql)).toBe(false);
    });
  }, 60_000);
});
