// `npm run bench:ingest-stages [-- --rows N --rounds R --stage-only --beside --explain time|analyze --profile DIR --foreign-keys real]`: staging and merge alone, with CPU times.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { createSql, type Sql } from '../lib/db';
import { createLogger } from '../lib/log';
import { mergeAlongsideStaging, mergePacketRows, type MergeAlongside } from '../lib/ingest/merge';
import { loadPacketContext } from '../lib/ingest/packet-context';
import { stageRows } from '../lib/ingest/stage-rows';
import { registerPacket } from '../lib/packets';
import { setUpDatabase } from '../lib/setup-database';
import { startEmbeddedPostgres } from '../lib/runtime/postgres';
import { BENCH_HEADER, BENCH_MAP, messyRows } from './messy-rows';
import { loadAverage, processCpuMs, say } from './trigger-timing';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '1' },
    // prints every merge statement's duration (`time`), or its plan with actual times and buffers (`analyze`)
    explain: { type: 'string' },
    // keeps Postgres running after the first staging, its rows also in saved_rows, for experiments by hand
    hold: { type: 'boolean', default: false },
    // staging only: each round's rows are removed instead of merged
    'stage-only': { type: 'boolean', default: false },
    // writes a CPU profile of each round's staging (and nothing else) into this directory
    profile: { type: 'string' },
    // `real`: contacts and appointments get real foreign keys instead of their per-statement reference
    // checks, to measure what those would cost the merge
    'foreign-keys': { type: 'string', default: 'statement' },
    // the merge runs beside staging (as the ingest activity runs it) instead of after it
    beside: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const rounds = Number(values.rounds);

/** The parent pid of a process on this machine, from /proc. */
async function parentPid(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : undefined;
}

/** CPU seconds of every process the postmaster started (backends, writers), read from /proc. */
async function postgresCpu(postmaster: number): Promise<number> {
  let ms = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid !== postmaster && (await parentPid(pid)) !== postmaster) continue;
    // a backend that ended since the listing has nothing more to count
    ms += await processCpuMs(pid).catch(() => 0);
  }
  return ms / 1000;
}

async function measure<T>(postmaster: number, fn: () => Promise<T>) {
  const pgBefore = await postgresCpu(postmaster);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await fn();
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const pg = (await postgresCpu(postmaster)) - pgBefore;
  const node = (cpu.user + cpu.system) / 1e6;
  return {
    result,
    text: `wall ${wall.toFixed(2)} s, node cpu ${node.toFixed(2)} s, pg cpu ${pg.toFixed(2)} s`,
  };
}

let gcMs = 0;
// by kind: 1 scavenge (young generation), 2 mark-compact (old), 4 incremental marking, 8 weak callbacks
const gcByKind = new Map<number, number>();
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    const kind = (entry as { detail?: { kind?: number } }).detail?.kind ?? 0;
    gcByKind.set(kind, (gcByKind.get(kind) ?? 0) + entry.duration);
  }
}).observe({ entryTypes: ['gc'] });

const log = createLogger({ level: 'warn', pretty: false });
// only Postgres: staging reads the file from disk, so S3 and Temporal stay out of the numbers
const workDir = await mkdtemp(path.join(os.tmpdir(), 'herald-stages-'));
const postgres = await startEmbeddedPostgres({ dataDir: workDir, port: 0, fast: true, log });
const sql = createSql({ url: postgres.url, actor: 'bench' });
try {
  await setUpDatabase(sql);
  if (values['foreign-keys'] === 'real') await useRealForeignKeys(sql);
  const [backend] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const postmaster = (await parentPid(backend!.pid))!;
  const file = path.join(workDir, 'rows.csv');
  let text = BENCH_HEADER;
  for (const row of messyRows(rows)) {
    text += row.line;
    if (text.length > 8 << 20) {
      await writeFile(file, text, { flag: 'a' });
      text = '';
    }
  }
  await writeFile(file, text, { flag: 'a' });

  for (let round = 1; round <= rounds; round += 1) {
    const alias = `stages-${randomUUID().slice(0, 8)}`;
    const [company] = await sql<{ id: number }[]>`
      insert into companies (alias, name, timezone) values (${alias}, 'Stages Clinic', 'America/New_York') returning id`;
    const [map] = await sql<{ id: number }[]>`
      insert into company_load_maps (company_id, name, version, load_map)
      values (${company!.id}, ${BENCH_MAP.name}, 1, ${sql.json(BENCH_MAP as never)}) returning id`;
    const { packet } = await registerPacket(
      sql,
      { companyId: company!.id, loadMapId: map!.id, dedupeKey: `stages:${round}`, objectKey: 'rows.csv' },
      'bench',
    );
    const context = await loadPacketContext(sql, packet.uuid);
    say(`round ${round}, load average ${loadAverage()}`);
    const profiler = values.profile ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const gcBefore = gcMs;
    gcByKind.clear();
    if (values.beside) {
      // the merge on a connection of its own, so that its backend's CPU is told apart from staging's COPY
      const mergeSql = values.explain
        ? await explaining(postgres.url, values.explain === 'analyze')
        : await oneConnection(postgres.url);
      const [mergeBackend] = await mergeSql<{ pid: number }[]>`select pg_backend_pid() as pid`;
      const mergeCpuBefore = await processCpuMs(mergeBackend!.pid);
      const started = performance.now();
      const both = await measure(postmaster, async () => {
        let merge: MergeAlongside | undefined;
        const staged = await stageRows({
          sql,
          context,
          input: createReadStream(file, { highWaterMark: 64 * 1024 }),
          onHeader: async (header) => {
            const opened = await mergeAlongsideStaging(mergeSql, context, header, {});
            if (opened === 'busy') throw new Error('the company lock is taken');
            merge = opened;
          },
          onProgress: (progress) => merge!.through(progress.row),
        });
        say(`  staging done after ${((performance.now() - started) / 1000).toFixed(2)} s`);
        return { staged, merged: await merge!.finish() };
      });
      const mergeCpu = ((await processCpuMs(mergeBackend!.pid)) - mergeCpuBefore) / 1000;
      say(
        `  staging and merge beside it: ${both.text} (the merge's backend ${mergeCpu.toFixed(2)} s), gc ${((gcMs - gcBefore) / 1000).toFixed(2)} s; staged ${both.result.staged.staged}; ${JSON.stringify({ ...both.result.merged, regions: undefined })}`,
      );
      await mergeSql.end();
      say(`  load average ${loadAverage()}`);
      continue;
    }
    const staged = await measure(postmaster, () =>
      stageRows({
        sql,
        context,
        input: createReadStream(file, { highWaterMark: 64 * 1024 }),
        onProgress: () => {},
      }),
    );
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      await mkdir(values.profile!, { recursive: true });
      await writeFile(path.join(values.profile!, `staging-${round}.cpuprofile`), JSON.stringify(profile));
      profiler.disconnect();
    }
    say(
      `  staging: ${staged.text}, gc ${((gcMs - gcBefore) / 1000).toFixed(2)} s (${[...gcByKind].map(([kind, ms]) => `kind ${kind} ${(ms / 1000).toFixed(2)}`).join(', ')}); staged ${staged.result.staged}, rejected ${staged.result.rejected}; rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`,
    );
    if (values.hold) {
      await sql`create table saved_rows as select * from packet_rows`;
      say(`holding: psql ${postgres.url} (packet ${packet.id}, company ${company!.id}); Ctrl-C ends`);
      await new Promise((resolve) => process.once('SIGINT', resolve));
      break;
    }
    if (values['stage-only']) {
      // a fingerprint of what was staged and rejected, to compare two versions of the code by
      const [digest] = await sql<{ rows: string; rejects: string }[]>`
        select (select md5(string_agg(r::text, '|' order by row_number)) from packet_rows r where packet_id = ${packet.id}) as rows,
               (select md5(string_agg(concat_ws('/', j.row_number, j.column_name, j.raw_value, j.reason, j.raw_row), '|' order by j.id))
                from packet_rejects j where packet_id = ${packet.id}) as rejects`;
      say(`  staged rows md5 ${digest!.rows}, rejects md5 ${digest!.rejects}`);
      await sql`delete from packet_rows where packet_id = ${packet.id}`;
      continue;
    }
    const mergeSql: Sql = values.explain ? await explaining(postgres.url, values.explain === 'analyze') : sql;
    const merged = await measure(postmaster, () => mergePacketRows(mergeSql, context));
    say(`  merge: ${merged.text}; ${JSON.stringify({ ...merged.result, regions: undefined })}`);
    if (mergeSql !== sql) await mergeSql.end();
    say(`  load average ${loadAverage()}`);
  }
} finally {
  await sql.end({ timeout: 5 });
  await postgres.stop();
  await rm(workDir, { recursive: true, force: true });
}

/** Swaps the reference checks per statement on contacts and appointments for real foreign keys, per row. */
async function useRealForeignKeys(sql: Sql): Promise<void> {
  say('contacts and appointments with real foreign keys instead of reference checks per statement');
  for (const t of ['contacts_references', 'contacts_references_updated'])
    await sql`drop trigger ${sql(t)} on contacts`;
  for (const t of ['appointments_references', 'appointments_references_updated'])
    await sql`drop trigger ${sql(t)} on appointments`;
  for (const table of ['contacts', 'appointments']) {
    await sql`
      alter table ${sql(table)}
        add foreign key (company_id) references companies (id),
        add foreign key (customer_id) references customers (id),
        add foreign key (location_id) references company_locations (id),
        add foreign key (first_packet_id) references data_packets (id),
        add foreign key (last_packet_id) references data_packets (id)`;
  }
  await sql`alter table contacts add foreign key (region) references regions (code)`;
  await sql`alter table appointments add foreign key (contact_id) references contacts (id)`;
}

/** A client of one connection, kept open: its backend is the same process from start to end. */
async function oneConnection(url: string, onnotice?: (notice: { message?: unknown }) => void): Promise<Sql> {
  const connect = (await import('postgres')).default;
  return connect(url, { max: 1, onnotice, connection: { 'herald.actor': 'bench' } }) as unknown as Sql;
}

/** One connection that sends each statement's analyzed plan back as a notice, printed as it comes. */
async function explaining(url: string, analyze: boolean): Promise<Sql> {
  const one = await oneConnection(url, (notice) =>
    say(analyze ? String(notice.message) : String(notice.message).split('\n', 2).join(' ').slice(0, 160)),
  );
  await one`load 'auto_explain'`;
  await one`set auto_explain.log_min_duration = 0`;
  if (analyze) await one`set auto_explain.log_analyze = on`;
  if (analyze) await one`set auto_explain.log_buffers = on`;
  await one`set auto_explain.log_nested_statements = on`;
  await one`set client_min_messages = log`;
  return one;
}
