// `npm run bench:ingest [-- --rows N --existing-messages N]`: N messy rows through the real worker and Temporal, against pgloader
// loading the same file raw into the same Postgres, a plain COPY of the same rows cleaned, and a COPY of our output alone.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Upload } from '@aws-sdk/lib-storage';
import { openApp } from '../lib/app';
import { loadConfig, PROJECT_ROOT } from '../lib/config';
import { startPacketIngest } from '../lib/ingest/start-ingest';
import { STAGING_COLUMNS } from '../lib/ingest/staged-row';
import { readPacketSummary } from '../lib/ingest/summary';
import { loadCompanyPlan } from '../lib/messages/due-steps';
import { packetReminders } from '../lib/messages/upcoming';
import { createLogger } from '../lib/log';
import { registerPacket } from '../lib/packets';
import { buildWorkflowBundle } from '../workers/workflow-bundle';
import { BENCH_HEADER, BENCH_MAP, messyRows } from './messy-rows';
import { measureOutputFloor } from './output-floor';
import { fillOtherCompanies } from './existing-messages';
import { ensurePgloader, loadWithPgloader } from './pgloader';
import { loadAverage, processCpuMs } from './trigger-timing';
import { cpuBetween, cpuOfProcessTree } from './process-cpu';

// the worker's heap as `npm run worker` sizes it (package.json): without a cap V8 lets garbage from
// parsing pile up to ~400 MB on a machine with memory to spare; with it the worker stays near 260 MB
const WORKER_HEAP_FLAGS = ['--max-old-space-size=192', '--max-semi-space-size=2'];

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    // other companies' messages (and half as many appointments) already in the database
    'existing-messages': { type: 'string', default: '0' },
    // a directory for the worker's CPU profile (written when it stops)
    profile: { type: 'string' },
  },
});
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows < 1) throw new Error('--rows must be a positive whole number');
const existing = Number(values['existing-messages']);
if (!Number.isInteger(existing) || existing < 0)
  throw new Error('--existing-messages must be a whole number');
const say = (line: string) => process.stdout.write(line + '\n');
const seconds = (ms: number) => (ms / 1000).toFixed(2);

// the raw file (removed after pgloader), the cleaned rows (~1 GB a million rows, removed after their COPY),
// the workflow bundle and the packet's exported output; removed at the end
const workDir = await mkdtemp(path.join(os.tmpdir(), 'herald-bench-'));
// a fresh runtime of our own, so nothing else on the machine shares the database during the run
const app = await openApp({
  config: loadConfig(),
  log: createLogger({ level: 'warn', pretty: false }),
  ephemeral: true,
  fastPostgres: true,
  setUp: true,
});
try {
  const alias = `bench-${randomUUID().slice(0, 8)}`;
  const [company] = await app.sql<{ id: number }[]>`
    insert into companies (alias, name, timezone) values (${alias}, 'Benchmark Clinic', 'America/New_York') returning id`;
  const [map] = await app.sql<{ id: number }[]>`
    insert into company_load_maps (company_id, name, version, load_map)
    values (${company!.id}, ${BENCH_MAP.name}, 1, ${app.sql.json(BENCH_MAP as never)}) returning id`;

  if (existing > 0) {
    const filling = performance.now();
    await fillOtherCompanies(app.sql, existing);
    say(
      `filled the database with ${existing} messages and ${Math.floor(existing / 2)} appointments of other companies ` +
        `in ${seconds(performance.now() - filling)} s`,
    );
  }

  // 1. the messy file on disk and in S3, and the same rows cleaned kept aside for the baseline
  const key = `raw/${alias}/bench/appointments-${rows}.csv`;
  const rawFile = path.join(workDir, 'appointments.csv');
  const cleanFile = path.join(workDir, 'clean.copy');
  let started = performance.now();
  let raw = BENCH_HEADER;
  let clean = '';
  for (const row of messyRows(rows)) {
    raw += row.line;
    if (row.clean) clean += row.clean;
    if (raw.length > 32 << 20) {
      await writeFile(rawFile, raw, { flag: 'a' });
      await writeFile(cleanFile, clean, { flag: 'a' });
      raw = clean = '';
    }
  }
  await writeFile(rawFile, raw, { flag: 'a' });
  await writeFile(cleanFile, clean, { flag: 'a' });
  await new Upload({
    client: app.s3,
    params: { Bucket: app.bucket, Key: key, Body: createReadStream(rawFile, { highWaterMark: 1 << 20 }) },
    queueSize: 2,
  }).done();
  say(`generated and uploaded ${rows} rows in ${seconds(performance.now() - started)} s`);

  // 2a. pgloader: the same file, raw, into an unindexed table of the same Postgres
  const pgloaderVersion = await ensurePgloader(say);
  const pgloader = pgloaderVersion
    ? await loadWithPgloader(app.sql, app.runtime.databaseUrl, rawFile, workDir)
    : undefined;
  if (pgloader)
    say(
      `pgloader (${pgloaderVersion}): ${pgloader.rows} raw rows in ${seconds(pgloader.ms)} s, peak RSS ${pgloader.peakRssMb} MB`,
    );
  await rm(rawFile);

  // 2b. COPY of the cleaned rows into a plain table of the staging table's shape
  await app.sql`create table bench_baseline (like packet_rows)`;
  const baselineConnection = await app.sql.reserve();
  const [baselineBackend] = await baselineConnection<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const baselineCpuBefore = await processCpuMs(baselineBackend!.pid);
  started = performance.now();
  const writable =
    await baselineConnection`copy bench_baseline (${app.sql(STAGING_COLUMNS as unknown as string[])}) from stdin`.writable();
  await pipeline(createReadStream(cleanFile, { highWaterMark: 1 << 20 }), writable);
  const copyMs = performance.now() - started;
  const copyCpuMs = (await processCpuMs(baselineBackend!.pid)) - baselineCpuBefore;
  baselineConnection.release();
  const [baseline] = await app.sql<{ n: number }[]>`select count(*)::int as n from bench_baseline`;
  say(
    `copy: COPY of ${baseline!.n} cleaned rows in ${seconds(copyMs)} s (${seconds(copyCpuMs)} s of Postgres CPU)`,
  );
  await app.sql`drop table bench_baseline`;
  await rm(cleanFile);

  // 3. ours: a worker process (prebuilt workflow bundle, so bundling is not in its memory) ingests the file
  const bundlePath = path.join(workDir, 'workflows.js');
  await writeFile(bundlePath, (await buildWorkflowBundle()).code);
  const taskQueue = `bench-${randomUUID()}`;
  const worker = spawn(
    process.execPath,
    [
      ...WORKER_HEAP_FLAGS,
      ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values.profile)}`] : []),
      ...['--import', 'tsx', 'workers/main.ts', '--queues', taskQueue],
    ],
    {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        DATABASE_URL: app.runtime.databaseUrl,
        TEMPORAL_ADDRESS: app.temporal.address,
        TEMPORAL_NAMESPACE: app.temporal.namespace,
        S3_ENDPOINT: app.runtime.s3.endpoint ?? '',
        S3_BUCKET: app.bucket,
        S3_ACCESS_KEY_ID: app.runtime.s3.accessKeyId ?? '',
        S3_SECRET_ACCESS_KEY: app.runtime.s3.secretAccessKey ?? '',
        WORKFLOW_BUNDLE_PATH: bundlePath,
        // info: the bench waits for the worker's 'worker running' line
        LOG_LEVEL: 'info',
        OPS_PORT: '0',
      },
    },
  );
  await new Promise<void>((resolve, reject) => {
    worker.once('exit', (code) => reject(new Error(`the worker exited with code ${code}`)));
    let out = '';
    worker.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('worker running')) resolve();
    });
  });
  const { packet } = await registerPacket(
    app.sql,
    {
      companyId: company!.id,
      loadMapId: map!.id,
      dedupeKey: `bench:${key}`,
      objectKey: key,
      originalName: path.basename(key),
    },
    'bench',
  );
  const memory = async (field: 'VmRSS' | 'VmHWM') =>
    Number(
      new RegExp(`${field}:\\s+(\\d+)`).exec(await readFile(`/proc/${worker.pid}/status`, 'utf8'))?.[1] ?? 0,
    ) / 1024;
  const idleMb = await memory('VmRSS');
  // which stage the worker's memory peaks in: sampled while the packet moves through them
  let peakStage = { mb: 0, stage: 'received' };
  const sampler = setInterval(() => {
    void (async () => {
      const [mb, [row]] = await Promise.all([
        memory('VmRSS'),
        app.sql<{ stage: string }[]>`select stage from data_packets where id = ${packet.id}`,
      ]);
      if (mb > peakStage.mb) peakStage = { mb, stage: row?.stage ?? '?' };
    })().catch(() => {});
  }, 250);
  const cpuBefore = await cpuOfProcessTree();
  started = performance.now();
  const { handle } = await startPacketIngest(await app.client(), { packet, companyAlias: alias, taskQueue });
  await handle.result();
  const oursMs = performance.now() - started;
  const cpuAfter = await cpuOfProcessTree();
  clearInterval(sampler);
  const peakMb = await memory('VmHWM');
  say(
    `worker memory: ${Math.round(idleMb)} MB idle, peak ${Math.round(peakMb)} MB (sampled peak ${Math.round(peakStage.mb)} MB after stage ${peakStage.stage})`,
  );
  // where the ingest's CPU went: two cores give 2 × ours_s at most
  say(
    `ingest CPU: ${Object.entries(cpuBetween(cpuAfter, cpuBefore))
      .filter(([, ms]) => ms > 0)
      .map(([part, ms]) => `${part} ${seconds(ms)} s`)
      .join(', ')} (${os.cpus().length} cores × ${seconds(oursMs)} s)`,
  );
  worker.removeAllListeners('exit');
  worker.kill('SIGTERM');
  const summary = (await readPacketSummary(app.sql, packet.uuid))!;
  say(
    `ours: ${summary.stage}, read ${summary.rowsRead}, loaded ${summary.rowsLoaded}, rejected ${summary.rowsRejected}, ` +
      `duplicates ${summary.rowsDuplicate} in ${seconds(oursMs)} s`,
  );
  const events = await app.sql<{ stage: string; at: Date }[]>`
    select stage, at from packet_events where packet_id = ${packet.id} order by id`;
  say(
    `stages: ${events.map((e, i) => `${e.stage} +${i ? seconds(e.at.getTime() - events[i - 1]!.at.getTime()) : '0'}s`).join(', ')}`,
  );
  // what `herald packets show` computes for the packet: the reminders its appointments will get
  const showing = performance.now();
  const reminders = await packetReminders(
    app.sql,
    (await loadCompanyPlan(app.sql, company!.id))!,
    packet.id,
    new Date().toISOString(),
  );
  say(
    `packets show: ${reminders.toCome} reminders to come for ${reminders.appointments} appointments, ` +
      `computed in ${seconds(performance.now() - showing)} s`,
  );
  // 4. the output floor: our output rows alone, COPYed into empty tables shaped like ours, with the worker gone
  if (worker.exitCode === null && worker.signalCode === null) await once(worker, 'exit');
  const floor = await measureOutputFloor(app.sql, packet.id, workDir);
  say(
    `output floor: COPY of our output (${floor.tables.map((t) => `${t.rows} ${t.table}`).join(', ')}) ` +
      `into tables shaped like ours in ${seconds(floor.ms)} s (${seconds(floor.cpuMs)} s of Postgres CPU), ` +
      `${Math.round((100 * floor.ms) / oursMs)}% of ours ` +
      `(${floor.tables.map((t) => `${t.table} ${seconds(t.ms)} s`).join(', ')}); load average ${loadAverage()}`,
  );
  const pgloaderS = pgloader ? seconds(pgloader.ms) : 'none';
  say(
    `bench:ingest rows=${rows} ours_s=${seconds(oursMs)} copy_s=${seconds(copyMs)} pgloader_s=${pgloaderS} ` +
      `floor_s=${seconds(floor.ms)} vs_pgloader=${pgloader ? (oursMs / pgloader.ms).toFixed(2) : 'none'} ` +
      `vs_floor=${(oursMs / floor.ms).toFixed(2)} peak_rss_mb=${Math.round(peakMb)}`,
  );
} finally {
  await app.close();
  await rm(workDir, { recursive: true, force: true });
}
