// The ingest benchmark's output floor: a plain COPY of one packet's contacts and appointments into empty tables shaped like ours.
import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Sql } from '../lib/db';
import { processCpuMs } from './trigger-timing';

// where each table names the packet that wrote its rows (last_packet_id: created or updated by it)
const OUTPUT_TABLES = [
  { table: 'contacts', packetColumn: 'last_packet_id' },
  { table: 'appointments', packetColumn: 'last_packet_id' },
] as const;

type OutputTable = (typeof OUTPUT_TABLES)[number]['table'];

export interface OutputFloor {
  /** wall clock of the COPYs, one after the other */
  ms: number;
  /** CPU the Postgres backend spent on them: steadier than wall time on a machine others are using */
  cpuMs: number;
  tables: { table: OutputTable; rows: number; ms: number }[];
}

/**
 * Exports the rows `packetId` wrote (untimed, streamed to files in `workDir`), then times their COPY
 * into `like <table> including all` copies in a scratch schema: the same columns, defaults, checks and
 * indexes, but none of the triggers or reference checks. No pipeline that writes these rows into these
 * tables can be faster; the scratch schema is dropped afterwards.
 */
export async function measureOutputFloor(sql: Sql, packetId: number, workDir: string): Promise<OutputFloor> {
  const schema = 'bench_output_floor';
  const tables = [];
  for (const { table, packetColumn } of OUTPUT_TABLES) {
    // generated columns can be neither copied in nor given; every other column is, in table order
    const columns = (
      await sql<{ name: string }[]>`
        select attname as name from pg_attribute
        where attrelid = ${table}::regclass and attnum > 0 and not attisdropped and attgenerated = ''
        order by attnum`
    ).map((c) => c.name);
    const file = path.join(workDir, `${table}.copy`);
    // COPY takes no bound parameters, so the packet id reaches it through a transaction-local setting
    await sql.begin(async (tx) => {
      await tx`select set_config('herald.bench_packet', ${String(packetId)}, true)`;
      const out = await tx`
        copy (select ${tx(columns)} from ${tx(table)}
              where ${tx(packetColumn)} = current_setting('herald.bench_packet')::bigint) to stdout`.readable();
      await pipeline(out, createWriteStream(file, { highWaterMark: 1 << 20 }));
    });
    tables.push({ table, columns, file });
  }
  await sql`drop schema if exists ${sql(schema)} cascade`;
  await sql`create schema ${sql(schema)}`;
  try {
    for (const { table } of tables) {
      await sql`create table ${sql(`${schema}.${table}`)} (like ${sql(table)} including all)`;
    }
    // dirty pages our ingest left behind are flushed first, so its checkpoint does not land in the timing
    await sql`checkpoint`;
    // one connection for the COPYs, so its backend's CPU can be read (the embedded Postgres runs here)
    const connection = await sql.reserve();
    const timed = [];
    let ms: number;
    let cpuMs: number;
    try {
      const [backend] = await connection<{ pid: number }[]>`select pg_backend_pid() as pid`;
      const cpuBefore = await processCpuMs(backend!.pid);
      const started = performance.now();
      for (const { table, columns, file } of tables) {
        const tableStarted = performance.now();
        const writable =
          await connection`copy ${sql(`${schema}.${table}`)} (${sql(columns)}) from stdin`.writable();
        await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), writable);
        timed.push({ table, ms: performance.now() - tableStarted });
      }
      ms = performance.now() - started;
      cpuMs = (await processCpuMs(backend!.pid)) - cpuBefore;
    } finally {
      connection.release();
    }
    const counted = [];
    for (const { table, ms } of timed) {
      const [count] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(`${schema}.${table}`)}`;
      counted.push({ table, rows: count!.n, ms });
    }
    return { ms, cpuMs, tables: counted };
  } finally {
    await sql`drop schema ${sql(schema)} cascade`;
  }
}
