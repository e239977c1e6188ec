// The ingest benchmark's output floor: a plain COPY of one packet's contacts and appointments into empty tables shaped like ours.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
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
    await exportAsCopyText(sql, { table, packetColumn, columns, packetId, file });
    tables.push({ table, packetColumn, columns, file });
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
      const { columns, packetColumn } = tables.find((t) => t.table === table)!;
      // the floor holds exactly the rows our ingest wrote, value for value, or it measures nothing
      const [check] = await sql<{ n: number; ours: number; differ: number }[]>`
        with floor as (select row(${sql(columns)})::text as r from ${sql(`${schema}.${table}`)}),
             ours as (select row(${sql(columns)})::text as r from ${sql(table)} where ${sql(packetColumn)} = ${packetId})
        select (select count(*)::int from floor) as n, (select count(*)::int from ours) as ours,
               (select count(*)::int from (select r from floor except all select r from ours) d) as differ`;
      if (check!.n !== check!.ours || check!.differ > 0)
        throw new Error(
          `output floor: ${check!.n} ${table} rows, ${check!.differ} of them not as the ingest wrote them ` +
            `(it wrote ${check!.ours})`,
        );
      counted.push({ table, rows: check!.n, ms });
    }
    return { ms, cpuMs, tables: counted };
  } finally {
    await sql`drop schema ${sql(schema)} cascade`;
  }
}

/**
 * Writes the rows `packetId` wrote as COPY's text format, read through a cursor. Not COPY TO STDOUT:
 * the driver's COPY stream sometimes never closes (porsager/postgres#917) and the benchmark hung there.
 * Each column is its type's text output, as COPY writes it, with backslash, newline, carriage return
 * and tab escaped and null as \N, so COPY FROM reads back the same values.
 */
async function exportAsCopyText(
  sql: Sql,
  opts: { table: string; packetColumn: string; columns: string[]; packetId: number; file: string },
): Promise<void> {
  const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const copyText = (column: string) =>
    `coalesce(replace(replace(replace(replace(${ident(column)}::text, '\\', '\\\\'), ` +
    `E'\\n', '\\n'), E'\\r', '\\r'), E'\\t', '\\t'), '\\N')`;
  const line = `${opts.columns.map(copyText).join(` || E'\\t' || `)} || E'\\n'`;
  const out = createWriteStream(opts.file, { highWaterMark: 1 << 20 });
  await sql.begin(async (tx) => {
    const rows = tx.unsafe<{ line: string }[]>(
      `select ${line} as line from ${ident(opts.table)} where ${ident(opts.packetColumn)} = $1`,
      [opts.packetId],
    );
    for await (const page of rows.cursor(5000)) {
      if (!out.write(page.map((r) => r.line).join(''))) await once(out, 'drain');
    }
  });
  out.end();
  await finished(out);
}
