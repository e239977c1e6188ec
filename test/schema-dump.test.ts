import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS_DIR } from '../lib/migrate';
import { resolvePgDump } from '../lib/runtime/pg-dump';
import { dumpSchema, readCommittedDump, staleDumpProblem } from '../lib/schema-dump';
import { withScratchDatabase } from './support/scratch-db';

describe('schemas/current.sql', () => {
  it('is the schema the migrations make (run `npm run schema:dump` after adding a migration)', () =>
    withScratchDatabase(async (sql, url) => {
      await migrate(sql);
      const fresh = await dumpSchema(url, await resolvePgDump());
      expect(staleDumpProblem(await readCommittedDump(), fresh)).toBeUndefined();
    }));

  it('goes stale when a migration is added without regenerating it, naming the command that fixes it', () =>
    withScratchDatabase(async (sql, url) => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-migrations-'));
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      await writeFile(
        path.join(dir, '9999_schema_dump_probe.sql'),
        'create table schema_dump_probe (id int);',
      );
      await migrate(sql, { dir });
      const fresh = await dumpSchema(url, await resolvePgDump());
      expect(staleDumpProblem(await readCommittedDump(), fresh)).toMatch(
        /^schemas\/current\.sql is not the schema the migrations make \(line \d+: .*schema_dump_probe.*\): run `npm run schema:dump` and commit schemas\/current\.sql$/,
      );
    }));
});
