// `npm run bench:plan [-- --rows N --runs R]`: message planning alone, timed by wall clock and by the CPU of Postgres's backends.
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Sql } from '../lib/db';
import { mergePacketRows } from '../lib/ingest/merge';
import { loadPacketContext, type PacketContext } from '../lib/ingest/packet-context';
import { planPacketMessages } from '../lib/ingest/plan-messages';
import { stageRows } from '../lib/ingest/stage-rows';
import { registerPacket } from '../lib/packets';
import { BENCH_HEADER, BENCH_MAP, messyRows } from './messy-rows';
import { loadAverage, median, processCpuMs, say, withBenchPostgres } from './trigger-timing';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '200000' }, runs: { type: 'string', default: '3' } },
});
const rows = Number(values.rows);
const runs = Number(values.runs);
if (!Number.isInteger(rows) || rows < 1) throw new Error('--rows must be a positive whole number');
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive whole number');

/** The benchmark's messy rows staged and merged (untimed): the packet planning then reads. */
async function loadedPacket(sql: Sql): Promise<{ context: PacketContext; rowsLoaded: number }> {
  const [company] = await sql<{ id: number }[]>`
    insert into companies (alias, name, timezone) values ('bench-plan', 'Benchmark Clinic', 'America/New_York')
    returning id`;
  const [map] = await sql<{ id: number }[]>`
    insert into company_load_maps (company_id, name, version, load_map)
    values (${company!.id}, ${BENCH_MAP.name}, 1, ${sql.json(BENCH_MAP as never)}) returning id`;
  const { packet } = await registerPacket(
    sql,
    { companyId: company!.id, loadMapId: map!.id, dedupeKey: 'bench:plan', objectKey: 'raw/bench-plan.csv' },
    'bench',
  );
  const context = await loadPacketContext(sql, packet.uuid);
  function* lines() {
    yield BENCH_HEADER;
    for (const row of messyRows(rows)) yield row.line;
  }
  await stageRows({ sql, context, input: Readable.from(lines()), onProgress: () => {} });
  const { rowsLoaded } = await mergePacketRows(sql, context);
  await sql`vacuum analyze`;
  return { context, rowsLoaded };
}

/** CPU so far of every client backend, by pid: planning's parts each run on a connection of their own. */
async function backendCpu(sql: Sql): Promise<Map<number, number>> {
  const backends = await sql<{ pid: number }[]>`
    select pid from pg_stat_activity where backend_type = 'client backend'`;
  return new Map(await Promise.all(backends.map(async (b) => [b.pid, await processCpuMs(b.pid)] as const)));
}

await withBenchPostgres('plan', async (sql) => {
  const { context, rowsLoaded } = await loadedPacket(sql);
  const samples: { ms: number; cpuMs: number; messages: number }[] = [];
  for (let run = 0; run < runs; run++) {
    // each run plans the packet from nothing, as its first planning did
    await sql`delete from reminder_enrollments where company_id = ${context.company.id}`;
    await sql`delete from messages where company_id = ${context.company.id}`;
    await sql`vacuum messages, reminder_enrollments`;
    const load = loadAverage();
    const before = await backendCpu(sql);
    const started = performance.now();
    const { messagesPlanned } = await planPacketMessages(sql, context, rowsLoaded);
    const ms = performance.now() - started;
    let cpuMs = 0;
    for (const [pid, after] of await backendCpu(sql)) cpuMs += after - (before.get(pid) ?? 0);
    samples.push({ ms, cpuMs, messages: messagesPlanned });
    say(
      `run ${run + 1}: ${messagesPlanned} messages in ${(ms / 1000).toFixed(2)} s, ${(cpuMs / 1000).toFixed(2)} s of Postgres CPU (load average ${load})`,
    );
  }
  const ms = median(samples.map((s) => s.ms));
  const cpuMs = median(samples.map((s) => s.cpuMs));
  const messages = samples[0]!.messages;
  say(
    `bench:plan rows=${rows} messages=${messages} wall_s=${(ms / 1000).toFixed(2)} cpu_s=${(cpuMs / 1000).toFixed(2)} ` +
      `us_per_message_wall=${((ms * 1000) / messages).toFixed(1)} us_per_message_cpu=${((cpuMs * 1000) / messages).toFixed(1)}`,
  );
});
