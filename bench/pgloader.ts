// pgloader as the ingest benchmark's yardstick: installed with apt when missing, run on the same file into the same Postgres.
import { execFile, spawn } from 'node:child_process';
import { open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Sql } from '../lib/db';

const run = promisify(execFile);

/** The pgloader on this machine, installed with apt-get when it is missing and this user may; undefined (and why) otherwise. */
export async function ensurePgloader(say: (line: string) => void): Promise<string | undefined> {
  const version = async () =>
    (await run('pgloader', ['--version']).catch(() => undefined))?.stdout.split('\n')[0]?.trim();
  const found = await version();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    say('pgloader is not installed and this user cannot install it (apt-get install pgloader as root)');
    return undefined;
  }
  say('pgloader is not installed: apt-get install -y pgloader');
  const installed = await run('apt-get', ['install', '-y', '-qq', 'pgloader'], { maxBuffer: 1 << 24 })
    .catch(() =>
      run('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq pgloader'], { maxBuffer: 1 << 24 }),
    )
    .then(
      () => true,
      (err: Error) => {
        say(`pgloader could not be installed: ${err.message.split('\n')[0]}`);
        return false;
      },
    );
  return installed ? version() : undefined;
}

export interface PgloaderRun {
  ms: number;
  rows: number;
  /** pgloader's peak resident memory, sampled every 100 ms */
  peakRssMb: number;
}

/**
 * Loads `file` (a CSV with a header line) raw into a new unindexed table of text columns named for
 * its header, as pgloader loads a file nobody cleaned: what herald's ingest is measured against.
 */
export async function loadWithPgloader(
  sql: Sql,
  databaseUrl: string,
  file: string,
  workDir: string,
): Promise<PgloaderRun> {
  const header = await firstLine(file);
  const columns = header.split(',').map((_, i) => `c${i + 1}`);
  await sql`drop table if exists bench_pgloader`;
  const definitions = columns.map((c) => sql`${sql(c)} text`).reduce((all, one) => sql`${all}, ${one}`);
  await sql`create table bench_pgloader (${definitions})`;
  const command = path.join(workDir, 'load.pgloader');
  await writeFile(
    command,
    [
      'LOAD CSV',
      `  FROM '${file}' (${columns.join(', ')})`,
      `  INTO ${databaseUrl}`,
      `  TARGET TABLE bench_pgloader (${columns.join(', ')})`,
      "  WITH skip header = 1, fields optionally enclosed by '\"', fields escaped by double-quote,",
      "       fields terminated by ',', truncate, disable triggers;",
      '',
    ].join('\n'),
  );
  const started = performance.now();
  const child = spawn('pgloader', ['--quiet', command], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  let peakKb = 0;
  const sampler = setInterval(() => {
    void readFile(`/proc/${child.pid}/status`, 'utf8')
      .then((s) => (peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0))))
      .catch(() => {});
  }, 100);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearInterval(sampler);
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`pgloader exited with code ${code}:\n${output.slice(-2000)}`);
  const [loaded] = await sql<{ n: number }[]>`select count(*)::int as n from bench_pgloader`;
  await sql`drop table bench_pgloader`;
  return { ms, rows: loaded!.n, peakRssMb: Math.round(peakKb / 1024) };
}

/** A file's first line, read alone: a file of millions of rows is longer than a string may be. */
async function firstLine(file: string): Promise<string> {
  const handle = await open(file);
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    return text.slice(0, text.indexOf('\n')).trim();
  } finally {
    await handle.close();
  }
}
