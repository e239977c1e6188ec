// The merge refreshes the planner's statistics of the tables a packet doubled (and grew by at least 1,000 rows).
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Sql } from '../lib/db';
import { mergePacketRows } from '../lib/ingest/merge';
import { loadPacketContext } from '../lib/ingest/packet-context';
import { stageRows } from '../lib/ingest/stage-rows';
import { registerPacket } from '../lib/packets';
import { setUpDatabase } from '../lib/setup-database';
import { EHR_MAP, ehrRows } from './support/ingest';
import { withScratchDatabase } from './support/scratch-db';

// The growth is measured against the whole table, so these tests need tables no other test file
// writes to at the same time: a database of their own.
const TABLES = ['packet_rows', 'contacts', 'appointments'] as const;
type Table = (typeof TABLES)[number];

interface Statistics {
  /** the planner's row estimate, pg_class.reltuples (-1: never analyzed) */
  rows: number;
  /** ANALYZE commands run on the table (autovacuum's are counted apart, and are off here) */
  analyses: number;
}

async function statistics(sql: Sql): Promise<Record<Table, Statistics>> {
  const rows = await sql<({ table: Table } & Statistics)[]>`
    select c.relname as table, c.reltuples::float8 as rows, s.analyze_count::int as analyses
    from pg_class c join pg_stat_user_tables s on s.relid = c.oid
    where c.oid in ('packet_rows'::regclass, 'contacts'::regclass, 'appointments'::regclass)`;
  return Object.fromEntries(rows.map(({ table, ...s }) => [table, s])) as Record<Table, Statistics>;
}

async function withCompany<T>(
  fn: (sql: Sql, companyId: number, loadMapId: number) => Promise<T>,
): Promise<T> {
  return withScratchDatabase(async (sql) => {
    await setUpDatabase(sql);
    // autovacuum analyzes a grown table on its own after a while; the tests read only the merge's ANALYZE
    for (const table of TABLES) await sql`alter table ${sql(table)} set (autovacuum_enabled = off)`;
    const [company] = await sql<{ id: number }[]>`
      insert into companies (alias, name, timezone) values ('stats', 'Statistics Clinic', 'America/New_York')
      returning id`;
    const [map] = await sql<{ id: number }[]>`
      insert into company_load_maps (company_id, name, version, load_map)
      values (${company!.id}, ${EHR_MAP.name}, 1, ${sql.json(EHR_MAP as never)}) returning id`;
    return fn(sql, company!.id, map!.id);
  });
}

/** Stages `count` new contacts with an appointment each (ids start with `prefix`) and merges them. */
async function mergeNewRows(sql: Sql, companyId: number, loadMapId: number, prefix: string, count: number) {
  const name = `${prefix}.csv`;
  const { packet } = await registerPacket(
    sql,
    { companyId, loadMapId, dedupeKey: `test:${prefix}`, objectKey: `raw/stats/${name}`, originalName: name },
    'test',
  );
  const context = await loadPacketContext(sql, packet.uuid);
  const staged = await stageRows({
    sql,
    context,
    input: Readable.from([ehrRows(count, prefix)]),
    onProgress: () => {},
  });
  expect(staged).toMatchObject({ staged: count, rejected: 0 });
  return mergePacketRows(sql, context);
}

/** Each table's columns that have planner statistics, by name. */
async function analyzedColumns(sql: Sql): Promise<Record<Table, string[]>> {
  const rows = await sql<{ table: Table; columns: string[] }[]>`
    select tablename as table, array_agg(attname::text order by attname) as columns
    from pg_stats where schemaname = current_schema() and tablename in ${sql(TABLES)}
    group by tablename`;
  return Object.fromEntries(rows.map((r) => [r.table, r.columns])) as Record<Table, string[]>;
}

const count = async (sql: Sql, table: Table) =>
  (await sql<{ n: number }[]>`select count(*)::int as n from ${sql(table)}`)[0]!.n;

describe("the merge's statistics refresh", () => {
  it('analyzes contacts and appointments a packet grew by 1,000 rows or more, counting the rows it wrote', () =>
    withCompany(async (sql, companyId, loadMapId) => {
      const before = await statistics(sql);
      const merged = await mergeNewRows(sql, companyId, loadMapId, 'grow', 1_500);
      expect(merged).toMatchObject({ contactsCreated: 1_500, appointmentsCreated: 1_500 });

      const after = await statistics(sql);
      for (const table of TABLES) expect(after[table].analyses, table).toBe(before[table].analyses + 1);
      // ANALYZE ran before the merge committed, and counted the transaction's own new rows
      expect(after.contacts.rows).toBe(await count(sql, 'contacts'));
      expect(after.appointments.rows).toBe(await count(sql, 'appointments'));
      expect(after.contacts.rows).toBeGreaterThanOrEqual(1_500);
      // only the columns the merge's plans read: the rest of each table waits for autovacuum
      expect(await analyzedColumns(sql)).toEqual({
        appointments: ['company_id', 'dedupe_key', 'last_packet_id', 'starts_at', 'status'],
        contacts: ['company_id', 'dedupe_key'],
        packet_rows: ['appointment_key', 'contact_key', 'packet_id', 'row_number'],
      });
    }));

  it("leaves autovacuum's count of changed rows, so that it analyzes every column later", () =>
    withCompany(async (sql, companyId, loadMapId) => {
      await mergeNewRows(sql, companyId, loadMapId, 'later', 1_500);
      // a session's counts reach the shared statistics when it goes idle, at most each second or so
      for (let tries = 0; ; tries++) {
        const [row] = await sql<{ changed: number }[]>`
          select n_mod_since_analyze::int as changed from pg_stat_user_tables where relname = 'contacts'`;
        if (row!.changed >= 1_500) break;
        expect(tries, 'contacts changed since its last analysis').toBeLessThan(100);
        await new Promise((r) => setTimeout(r, 100));
      }
    }));

  it('leaves the statistics alone when a packet adds fewer than 1,000 rows, or fewer than the table held', () =>
    withCompany(async (sql, companyId, loadMapId) => {
      const empty = await statistics(sql);
      await mergeNewRows(sql, companyId, loadMapId, 'small', 300);
      expect(await statistics(sql)).toEqual(empty);

      // 20,000 contacts the planner knows of: 5,000 new ones are a quarter more, which is not a doubling
      await sql`
        insert into contacts (company_id, dedupe_key, first_name, last_name, phone_e164, region)
        select ${companyId}, 'seed-' || i, 'Seed', 'Contact' || i, '+1617555' || lpad((i % 10000)::text, 4, '0'), 'unassigned'
        from generate_series(1, 20000) i`;
      await sql`analyze contacts`;
      const seeded = await statistics(sql);
      expect(seeded.contacts.rows).toBe(await count(sql, 'contacts'));
      expect(seeded.contacts.rows).toBeGreaterThanOrEqual(20_300);
      await mergeNewRows(sql, companyId, loadMapId, 'quarter', 5_000);
      const after = await statistics(sql);
      expect(after.contacts).toEqual(seeded.contacts);
      // the same packet grew appointments (300 rows before) and staged 5,000 rows: those two were analyzed
      expect(after.appointments.analyses).toBe(seeded.appointments.analyses + 1);
      expect(after.appointments.rows).toBe(await count(sql, 'appointments'));
      expect(after.packet_rows.analyses).toBe(seeded.packet_rows.analyses + 1);
    }));
});
