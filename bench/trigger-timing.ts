// What the trigger benches share: an embedded Postgres to measure in, bulk updates timed under EXPLAIN ANALYZE
// (wall time, the backend's CPU, a trigger function's own time), and rounds that interleave the cases.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createSql, type Sql, type TransactionSql } from '../lib/db';
import { createLogger } from '../lib/log';
import { migrate } from '../lib/migrate';
import { freePort } from '../lib/runtime/ports';
import { startEmbeddedPostgres } from '../lib/runtime/postgres';

/** `--messages` (per company) and `--runs` (rounds, the median is reported) from the command line. */
export function benchOptions(): { messages: number; runs: number } {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '100000' },
      runs: { type: 'string', default: '3' },
    },
  });
  return { messages: Number(values.messages), runs: Number(values.runs) };
}

export const say = (line: string) => process.stdout.write(line + '\n');

/** The 1, 5 and 15-minute load averages, as `uptime` prints them. */
export const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

export const sayLoadAverage = () => say(`load average ${loadAverage()}`);

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs `body` against a freshly migrated embedded Postgres in a temporary directory, removed afterwards. */
export async function withBenchPostgres(name: string, body: (sql: Sql) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `herald-bench-${name}-`));
  const log = createLogger({ level: 'warn', pretty: false });
  const pg = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), fast: true, log });
  const sql = createSql({ url: pg.url, actor: 'bench' });
  try {
    await migrate(sql);
    await body(sql);
  } finally {
    await sql.end();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A company with `count` contacts (distinct phones per company); returns its id. */
export async function seedCompanyContacts(sql: Sql, alias: string, count: number): Promise<number> {
  const [company] = await sql<
    { id: number }[]
  >`insert into companies (alias, name) values (${alias}, ${alias}) returning id`;
  const id = company!.id;
  await sql`
    insert into contacts (company_id, dedupe_key, first_name, phone_e164, region)
    select ${id}, 'b' || g, 'Pat', '+1' || (2000000000 + ${id} * 1000000 + g)::text, 'northeast' from generate_series(1, ${count}) g`;
  return id;
}

export interface UpdateSample {
  ms: number;
  /** CPU the Postgres backend spent: far steadier than wall time on a machine others are using */
  cpuMs: number;
  /** the time Postgres reports for the trigger's own function (0 when it did not run) */
  triggerMs: number;
}

interface Plan {
  Triggers?: { 'Trigger Name': string; Time: number; Calls: number }[];
}

class Rollback extends Error {}

/**
 * One bulk update under EXPLAIN ANALYZE, rolled back (and the table vacuumed) so each run starts alike.
 * `update` runs `explain (analyze, format json) update ...`; `isTrigger` picks the trigger whose time is
 * reported; `before rollback` reads what the update left (e.g. rows a trigger wrote) while it still stands.
 */
export async function timeUpdate<T = undefined>(
  sql: Sql,
  opts: {
    update: (tx: TransactionSql) => Promise<readonly unknown[]>;
    isTrigger: (name: string) => boolean;
    beforeRollback?: (tx: TransactionSql) => Promise<T>;
  },
): Promise<UpdateSample & { seen: T | undefined }> {
  let result: UpdateSample & { seen: T | undefined } = { ms: 0, cpuMs: 0, triggerMs: 0, seen: undefined };
  await sql
    .begin(async (tx) => {
      const [{ pid }] = (await tx<{ pid: number }[]>`select pg_backend_pid() as pid`) as unknown as [
        { pid: number },
      ];
      const cpuBefore = await processCpuMs(pid);
      const started = process.hrtime.bigint();
      const [row] = await opts.update(tx);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const cpuMs = (await processCpuMs(pid)) - cpuBefore;
      const plan = (row as Record<string, Plan[]>)['QUERY PLAN']![0]!;
      const trigger = plan.Triggers?.find((t) => opts.isTrigger(t['Trigger Name']));
      const seen = await opts.beforeRollback?.(tx);
      result = { ms, cpuMs, triggerMs: trigger?.Time ?? 0, seen };
      throw new Rollback();
    })
    .catch((err: unknown) => {
      if (!(err instanceof Rollback)) throw err;
    });
  await sql`vacuum messages`;
  return result;
}

/** User + system CPU of a process on this machine, from /proc (the embedded Postgres runs here). */
export async function processCpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux)
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * `runs` rounds of every case in turn, so a busy spell on the machine falls on all of them alike; each case
 * sets up its own state, measures and puts the state back. Returns the samples per case, in the cases' order.
 */
export async function interleavedRounds<S>(
  runs: number,
  cases: Record<string, () => Promise<S>>,
): Promise<Map<string, S[]>> {
  const samples = new Map<string, S[]>(Object.keys(cases).map((c) => [c, []]));
  for (let round = 0; round < runs; round++)
    for (const [label, measureOnce] of Object.entries(cases)) samples.get(label)!.push(await measureOnce());
  return samples;
}
