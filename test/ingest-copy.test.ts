// COPY into Postgres fails loudly: a value the server refuses rejects the copy with the server's error,
// however short the copy, and the transaction around it is rolled back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../lib/db';
import { copyInto } from '../lib/ingest/copy';

let sql: Sql;
beforeAll(() => {
  sql = createSql({
    url: process.env.DATABASE_URL!,
    actor: 'test',
    max: 2,
    applicationName: 'herald-copy-test',
  });
});
afterAll(() => sql?.end());

describe('COPY ... FROM STDIN', () => {
  it('rejects with the server error when a short copy fails after its data was sent, and rolls back', async () => {
    const attempt = sql.begin(async (tx) => {
      await tx`create temp table copy_target (at timestamptz not null) on commit drop`;
      await copyInto(tx, 'copy_target', ['at'], ['2026-01-01T00:00:00Z\n', 'not a time\n']);
    });
    const timeout = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the copy never settled')), 10_000),
    );
    const error = (await Promise.race([attempt, timeout]).catch((e: unknown) => e)) as { code?: string };
    expect(error).toMatchObject({ code: '22007' });
    // the connection went back to the pool with its transaction rolled back, not idle in an aborted one
    const stuck = await sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where application_name = 'herald-copy-test' and state = 'idle in transaction (aborted)'`;
    expect(stuck[0]!.n).toBe(0);
    const [one] = await sql<{ one: number }[]>`select 1 as one`;
    expect(one!.one).toBe(1);
  });
});
