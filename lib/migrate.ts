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

/**
 * Checksums recorded before comments stopped counting: the sha256 of the whole file as it was then, for
 * the migrations whose comments were reworded since. A database that recorded one of these has applied
 * the same statements; its record is rewritten to the statement checksum.
 */
const FULL_TEXT_CHECKSUMS_BEFORE_REWORDING: Record<string, string> = {
  '0001': '52fac6b9cbadd4eacfc37409e8900169b9a8e073cda24a2fd9c57bc04d016b6a',
  '0003': 'a69fbcd79fa0236ab44aa31ed048e33f9a0f5224343b790c0f87728bf8ca250b',
  '0015': '85499867ed2c36136c3273ca1607018de70eb894cbe755ef8c54bcf1da4f8ed2',
  '0020': 'ee4fc5f0f4119a0a8e6e1ae12dce1a8a30cdb75a2d2b41c1bd2a20f9c1a82a8d',
  '0022': 'a5cf58ad16548c7c4b3f4fa02edadd90dec11ca08f514b455a46f8e465c33af1',
  '0030': '3fc74ca838fb7e3cf78893826ee7bc08786d478b0b85b9866c0426dfe413921f',
  '0041': '20bde66b9bf0d28605f9d0d8a00fe8e2d1037a2e77f6c4af00806c594be2423d',
};

export interface Migration {
  version: string;
  name: string;
  file: string;
  sql: string;
  /** statementChecksum(sql) */
  checksum: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * What a migration does, checksummed: its SQL with comments left out and each run of whitespace outside
 * literals made one space, so that rewording a comment in an applied migration is not an edit of it.
 * Literals, quoted names and dollar-quoted bodies count exactly as written.
 */
export function statementChecksum(sql: string): string {
  return `statements:${sha256(withoutComments(sql))}`;
}

function withoutComments(sql: string): string {
  let out = '';
  const space = () => {
    if (out !== '' && !out.endsWith(' ')) out += ' ';
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
      space();
    } else if (sql.startsWith('/*', i)) {
      // block comments nest in Postgres
      let depth = 0;
      do {
        const step = sql.startsWith('/*', i) ? 1 : sql.startsWith('*/', i) ? -1 : 0;
        depth += step;
        i += step === 0 ? 1 : 2;
      } while (depth > 0 && i < sql.length);
      space();
    } else if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))?.[0];
      if (!tag) {
        out += c;
        i++;
        continue;
      }
      const end = sql.indexOf(tag, i + tag.length);
      const stop = end < 0 ? sql.length : end + tag.length;
      out += sql.slice(i, stop);
      i = stop;
    } else if (/\s/.test(c)) {
      space();
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out.trim();
}

/** Whether a checksum recorded by an earlier herald (the whole file's sha256) stands for this migration. */
function recordedBeforeStatementChecksums(m: Migration, recorded: string): boolean {
  return recorded === sha256(m.sql) || recorded === FULL_TEXT_CHECKSUMS_BEFORE_REWORDING[m.version];
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
    migrations.push({ version, name, file, sql, checksum: statementChecksum(sql) });
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
        if (previous !== m.checksum && recordedBeforeStatementChecksums(m, previous)) {
          await tx`update schema_migrations set checksum = ${m.checksum} where version = ${m.version}`;
        } else if (previous !== m.checksum) {
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
