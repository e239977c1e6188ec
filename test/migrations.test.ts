import { createHash } from 'node:crypto';
import { appendFile, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withActor } from '../lib/db';
import { migrate, MIGRATIONS_DIR, readMigrations, statementChecksum } from '../lib/migrate';
import { setUpDatabase } from '../lib/setup-database';
import { withScratchDatabase } from './support/scratch-db';

async function copyOfMigrations(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-migrations-'));
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

describe('migrations', () => {
  it('apply in order once, and a second run is a no-op', () =>
    withScratchDatabase(async (sql) => {
      const all = await readMigrations();
      const first = await migrate(sql);
      expect(first.applied).toEqual(all.map((m) => m.file));
      const second = await migrate(sql);
      expect(second).toEqual({ applied: [], alreadyApplied: all.length });
      const recorded = await sql<
        { version: string }[]
      >`select version from schema_migrations order by version`;
      expect(recorded.map((r) => r.version)).toEqual(all.map((m) => m.version));
    }));

  it('refuse an applied migration whose statements were edited afterwards', () =>
    withScratchDatabase(async (sql) => {
      const dir = await copyOfMigrations();
      await migrate(sql, { dir });
      await appendFile(path.join(dir, '0001_foundation.sql'), '\ncreate table edited (id int);\n');
      await expect(migrate(sql, { dir })).rejects.toThrow(
        /0001_foundation\.sql was changed after it was applied/,
      );
    }));

  it('accept an applied migration whose comments and spacing alone were reworded', () =>
    withScratchDatabase(async (sql) => {
      const dir = await copyOfMigrations();
      await migrate(sql, { dir });
      const file = path.join(dir, '0001_foundation.sql');
      const text = await readFile(file, 'utf8');
      const reworded = `/* reworded */\n${text.replace(/^-- .*$/m, '-- another wording')}\n\n-- added\n`;
      expect(reworded).not.toBe(text);
      await writeFile(file, reworded);
      expect(await migrate(sql, { dir })).toMatchObject({ applied: [] });
      // a literal still counts as written
      await writeFile(file, reworded.replace(/'([^']*)'/, "'$1 '"));
      await expect(migrate(sql, { dir })).rejects.toThrow(/0001_foundation\.sql was changed/);
    }));

  it('accept the whole-file checksums an earlier herald recorded, and rewrite them', () =>
    withScratchDatabase(async (sql) => {
      await migrate(sql);
      const all = await readMigrations();
      for (const m of all) {
        const fullText = createHash('sha256').update(m.sql).digest('hex');
        await sql`update schema_migrations set checksum = ${fullText} where version = ${m.version}`;
      }
      // 0001 as it was before its comments were reworded
      await sql`update schema_migrations
                set checksum = '52fac6b9cbadd4eacfc37409e8900169b9a8e073cda24a2fd9c57bc04d016b6a'
                where version = '0001'`;
      expect(await migrate(sql)).toEqual({ applied: [], alreadyApplied: all.length });
      const recorded = await sql<{ version: string; checksum: string }[]>`
        select version, checksum from schema_migrations order by version`;
      expect(recorded).toEqual(all.map((m) => ({ version: m.version, checksum: statementChecksum(m.sql) })));
      // anything else recorded is still an edit
      await sql`update schema_migrations set checksum = ${'0'.repeat(64)} where version = '0002'`;
      await expect(migrate(sql)).rejects.toThrow(/0002_reference_data\.sql was changed after it was applied/);
    }));

  it('leave nothing behind when one fails, and name the file', () =>
    withScratchDatabase(async (sql) => {
      const dir = await copyOfMigrations();
      await writeFile(
        path.join(dir, '9999_broken.sql'),
        'create table half_done (id int);\nselect * from no_such_table;',
      );
      await expect(migrate(sql, { dir })).rejects.toThrow(/9999_broken\.sql failed: .*no_such_table/);
      const [tables] = await sql<{ n: number }[]>`
        select count(*)::int as n from information_schema.tables where table_name in ('half_done', 'companies')`;
      expect(tables!.n).toBe(0);
      const [exists] = await sql<{ t: string | null }[]>`select to_regclass('schema_migrations')::text as t`;
      expect(exists!.t).toBeNull();
    }));

  it('take packets stopped between stages across the stage rename and the ZIP-state column', () =>
    withScratchDatabase(async (sql) => {
      // the schema before 0055, with a packet stopped at `sharded` and one staged but not merged
      const dir = await copyOfMigrations();
      for (const file of await readdir(dir)) if (file >= '0055') await rm(path.join(dir, file));
      await migrate(sql, { dir });
      const [company] = await sql<{ id: number }[]>`
        insert into companies (alias, name) values ('renamed-stage', 'Renamed Stage') returning id`;
      const [packet] = await sql<{ id: number }[]>`
        insert into data_packets (company_id, dedupe_key, object_key, stage)
        values (${company!.id}, 'k', 'raw/k.csv', 'sharded') returning id`;
      for (const stage of ['loaded', 'sharded'])
        await sql`insert into packet_events (packet_id, company_id, stage, event, actor)
                  values (${packet!.id}, ${company!.id}, ${stage}, ${`stage ${stage}`}, 'test')`;
      await sql`insert into packet_rows (packet_id, row_number, contact_key, first_name, last_name, zip)
                values (${packet!.id}, 2, 'a', 'Ann', 'Lee', '02110'), (${packet!.id}, 3, 'b', 'Bo', 'Li', null)`;

      expect((await migrate(sql)).applied.slice(0, 2)).toEqual([
        '0055_regions_counted_stage.sql',
        '0056_zip_state_staged.sql',
      ]);
      const [after] = await sql<{ stage: string }[]>`select stage from data_packets where id = ${packet!.id}`;
      expect(after!.stage).toBe('regions_counted');
      const log = await sql<{ stage: string }[]>`
        select stage from packet_events where packet_id = ${packet!.id} order by id`;
      expect(log.map((e) => e.stage)).toEqual(['loaded', 'regions_counted']);
      await expect(sql`update data_packets set stage = 'sharded' where id = ${packet!.id}`).rejects.toThrow(
        /data_packets_stage_check/,
      );
      // rows staged before the ZIP's state was staged with them keep the state the old table gave
      const staged = await sql<{ zip: string | null; zip_state: string | null }[]>`
        select zip, zip_state from packet_rows where packet_id = ${packet!.id} order by row_number`;
      expect(staged).toEqual([
        { zip: '02110', zip_state: 'MA' },
        { zip: null, zip_state: null },
      ]);
      const [table] = await sql<{ t: string | null }[]>`select to_regclass('zip_prefixes')::text as t`;
      expect(table!.t).toBeNull();
    }));

  it('refuse a second staged row with the same row number', () =>
    withScratchDatabase(async (sql) => {
      await migrate(sql);
      const [company] = await sql<{ id: number }[]>`
        insert into companies (alias, name) values ('one-row', 'One Row') returning id`;
      const [packet] = await sql<{ id: number }[]>`
        insert into data_packets (company_id, dedupe_key, object_key) values (${company!.id}, 'k', 'raw/k.csv')
        returning id`;
      await sql`insert into packet_rows (packet_id, row_number, contact_key, first_name, last_name)
                values (${packet!.id}, 2, 'a', 'Ann', 'Lee')`;
      // the merge reads each contact's last row back by its number (lib/ingest/merge-rows.ts)
      await expect(
        sql`insert into packet_rows (packet_id, row_number, contact_key, first_name, last_name)
            values (${packet!.id}, 2, 'b', 'Bo', 'Li')`,
      ).rejects.toThrow(/packet_rows_merge_range/);
    }));

  it('reject badly named migration files', async () => {
    const dir = await copyOfMigrations();
    await writeFile(path.join(dir, '12_oops.sql'), 'select 1');
    await expect(readMigrations(dir)).rejects.toThrow(
      /12_oops\.sql: migration files must be named NNNN_snake_name\.sql/,
    );
  });
});

describe('the audit trail', () => {
  it('records actor, before and after for changes to configuration tables', () =>
    withScratchDatabase(async (sql) => {
      await setUpDatabase(sql);
      await withActor(
        sql,
        'alice@ops',
        (tx) => tx`update companies set name = 'Lakeside Clinic' where alias = 'demo-clinic'`,
      );
      const [row] = await sql<
        { actor: string; action: string; before: { name: string }; after: { name: string } }[]
      >`
        select actor, action, before, after from audit_log
        where table_name = 'companies' and action = 'update' order by id desc limit 1`;
      expect(row).toMatchObject({ actor: 'alice@ops', action: 'update' });
      expect(row!.before.name).toBe('Lakeside Family Clinic');
      expect(row!.after.name).toBe('Lakeside Clinic');
    }, 'bob@ops'));

  it('names the pool actor when no operator is set, and never stores key hashes', () =>
    withScratchDatabase(async (sql) => {
      await setUpDatabase(sql);
      await sql`
        insert into api_keys (company_id, name, key_prefix, key_hash, key_hint)
        select id, 'ingress', 'hk_', 'sha256-secret-hash', 'ab12' from companies where alias = 'demo-clinic'`;
      const [row] = await sql<{ actor: string; after: Record<string, unknown> }[]>`
        select actor, after from audit_log where table_name = 'api_keys'`;
      expect(row!.actor).toBe('pool-actor');
      expect(row!.after).not.toHaveProperty('key_hash');
      expect(row!.after.key_hint).toBe('ab12');
    }, 'pool-actor'));

  it('skips updates that change nothing but updated_at, and audits consent changes on contacts', () =>
    withScratchDatabase(async (sql) => {
      await setUpDatabase(sql);
      const before = await sql`select id from audit_log`;
      await sql`update companies set name = name where alias = 'demo-clinic'`;
      expect(await sql`select id from audit_log`).toHaveLength(before.length);
      const [contact] = await sql<{ id: number }[]>`
        insert into contacts (company_id, dedupe_key, first_name, phone_e164, region)
        select id, 'k1', 'Ann', '+16175550123', 'northeast' from companies where alias = 'demo-clinic' returning id`;
      expect(await sql`select id from audit_log where table_name = 'contacts'`).toHaveLength(0);
      await sql`update contacts set do_not_sms = true where id = ${contact!.id}`;
      const [audit] = await sql<{ before: { do_not_sms: boolean }; after: { do_not_sms: boolean } }[]>`
        select before, after from audit_log where table_name = 'contacts'`;
      expect(audit!.before.do_not_sms).toBe(false);
      expect(audit!.after.do_not_sms).toBe(true);
    }));
});

describe('the data model', () => {
  it('keeps updated_at current by trigger', () =>
    withScratchDatabase(async (sql) => {
      await setUpDatabase(sql);
      const [before] = await sql<
        { updated_at: Date }[]
      >`select updated_at from companies where alias = 'demo-clinic'`;
      await new Promise((r) => setTimeout(r, 20));
      const [after] = await sql<{ updated_at: Date }[]>`
        update companies set timezone = 'America/Chicago' where alias = 'demo-clinic' returning updated_at`;
      expect(after!.updated_at.getTime()).toBeGreaterThan(before!.updated_at.getTime());
    }));

  it('enforces the message state machine in SQL', () =>
    withScratchDatabase(async (sql) => {
      await setUpDatabase(sql);
      const [contact] = await sql<{ id: number; company_id: number }[]>`
        insert into contacts (company_id, dedupe_key, first_name, phone_e164, region)
        select id, 'k1', 'Ann', '+16175550123', 'northeast' from companies where alias = 'demo-clinic'
        returning id, company_id`;
      const [message] = await sql<{ id: number }[]>`
        insert into messages (company_id, contact_id, channel, template_name, contact_at, region)
        values (${contact!.company_id}, ${contact!.id}, 'sms', 'appointment_reminder', now(), 'northeast') returning id`;
      await sql`update messages set state = 'sending' where id = ${message!.id}`;
      await sql`update messages set state = 'sent' where id = ${message!.id}`;
      await sql`update messages set state = 'delivered' where id = ${message!.id}`;
      await expect(sql`update messages set state = 'sending' where id = ${message!.id}`).rejects.toThrow(
        /state delivered cannot change to sending/,
      );
      await expect(sql`update messages set state = 'bogus' where id = ${message!.id}`).rejects.toThrow();
    }));

  it('seeds regions, credit prices, templates and the demo company', () =>
    withScratchDatabase(async (sql) => {
      const result = await setUpDatabase(sql);
      expect(result.loadMaps.map((m) => `${m.company}/${m.name}`)).toContain('demo-clinic/ehr-appointments');
      const [boston] = await sql<{ region: string }[]>`
        select region_code as region from region_states where state = 'MA'`;
      expect(boston).toEqual({ region: 'northeast' });
      const [honolulu] = await sql<
        { timezone: string }[]
      >`select timezone from region_states where state = 'HI'`;
      expect(honolulu).toEqual({ timezone: 'Pacific/Honolulu' });
      const prices = await sql<{ credits_package: number; price_per_credit: string }[]>`
        select credits_package, price_per_credit from credit_prices order by credits_package`;
      expect(prices.map((p) => [p.credits_package, Number(p.price_per_credit)])).toEqual([
        [5000, 0.1],
        [20000, 0.08],
        [50000, 0.06],
      ]);
      const templates = await sql<{ channel: string }[]>`
        select channel from message_templates where scope = 'global' and name = 'appointment_reminder' order by channel`;
      expect(templates.map((t) => t.channel)).toEqual(['email', 'sms', 'voice']);
      const [balance] = await sql<
        { balance: string }[]
      >`select balance from company_credit_balances where alias = 'demo-clinic'`;
      expect(Number(balance!.balance)).toBe(5000);
    }));

  it('records a new load-map version only when the file changed', () =>
    withScratchDatabase(async (sql) => {
      await setUpDatabase(sql);
      const again = await setUpDatabase(sql);
      expect(again.loadMaps.every((m) => !m.changed && m.version === 1)).toBe(true);
      const perMap = await sql<{ n: number }[]>`
        select count(*)::int as n from company_load_maps group by company_id, name`;
      expect(perMap.length).toBe(again.loadMaps.length);
      expect(perMap.every((m) => m.n === 1)).toBe(true);
    }));
});
