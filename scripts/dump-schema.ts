// `npm run schema:dump`: migrates a scratch embedded Postgres and writes schemas/current.sql; `-- --check` only compares.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createSql } from '../lib/db';
import { createLogger } from '../lib/log';
import { migrate } from '../lib/migrate';
import { resolvePgDump } from '../lib/runtime/pg-dump';
import { startEmbeddedPostgres } from '../lib/runtime/postgres';
import { dumpSchema, readCommittedDump, SCHEMA_DUMP_FILE, staleDumpProblem } from '../lib/schema-dump';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const say = (line: string) => process.stdout.write(line + '\n');

async function freshDump(): Promise<string> {
  const pgDump = await resolvePgDump({ notice: say });
  // a server of its own, so the dump never depends on what another database holds
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'herald-schema-dump-'));
  const postgres = await startEmbeddedPostgres({ dataDir, port: 0, log: createLogger({ level: 'warn' }) });
  try {
    const sql = createSql({ url: postgres.url, actor: 'schema-dump' });
    try {
      await migrate(sql);
    } finally {
      await sql.end();
    }
    return await dumpSchema(postgres.url, pgDump);
  } finally {
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

try {
  const fresh = await freshDump();
  const shown = path.relative(process.cwd(), SCHEMA_DUMP_FILE);
  if (values.check) {
    const problem = staleDumpProblem(await readCommittedDump(), fresh);
    if (problem) {
      process.stderr.write(problem + '\n');
      process.exit(1);
    }
    say(`${shown} is up to date`);
  } else {
    await writeFile(SCHEMA_DUMP_FILE, fresh);
    say(`wrote ${shown} (${fresh.split('\n').length} lines)`);
  }
} catch (err) {
  process.stderr.write(`schema dump: ${(err as Error).message}\n`);
  process.exit(1);
}
