// Applies the ordered SQL migrations in schemas/migrations once each, recording what was applied.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from './config';
import type { Sql } from './db';

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'schemas', 'migrations');
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
/** arbitrary constant: serialises concurrent migrate runs (tests, several workers starting at once) */
const MIGRATION_LOCK = 727_001;

export interface Migration {
  version: string;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const seen = new Set<string>();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new Error(`${path.join(dir, file)}: migration files must be named NNNN_snake_name.sql`);
    const [, version, name] = match as unknown as [string, string, string];
    if (seen.has(version)) throw new Error(`${path.join(dir, file)}: version ${version} is used twice`);
    seen.add(version);
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({ version, name, file, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

export async function migrate(sql: Sql, opts: { dir?: string } = {}): Promise<MigrateResult> {
  const migrations = await readMigrations(opts.dir);
  return (await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`
      create table if not exists schema_migrations (
        version text primary key,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`;
    const rows = await tx<
      { version: string; checksum: string }[]
    >`select version, checksum from schema_migrations`;
    const done = new Map(rows.map((r) => [r.version, r.checksum]));
    const applied: string[] = [];
    for (const m of migrations) {
      const previous = done.get(m.version);
      if (previous !== undefined) {
        if (previous !== m.checksum) {
          throw new Error(
            `schemas/migrations/${m.file} was changed after it was applied; add a new migration instead of editing it`,
          );
        }
        continue;
      }
      try {
        await tx.unsafe(m.sql);
      } catch (err) {
        throw new Error(`schemas/migrations/${m.file} failed: ${(err as Error).message}`, { cause: err });
      }
      await tx`insert into schema_migrations ${tx({ version: m.version, name: m.name, checksum: m.checksum })}`;
      applied.push(m.file);
    }
    return { applied, alreadyApplied: migrations.length - applied.length };
  })) as MigrateResult;
}
