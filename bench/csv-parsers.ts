// Throwaway benchmark that picked the CSV parser: papaparse vs csv-parse on a generated 200k-row file.
// Run: npx tsx bench/csv-parsers.ts [rows]
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parse as csvParse } from 'csv-parse';
import Papa from 'papaparse';
import { readCsv } from '../lib/parse/csv';

const rows = Number(process.argv[2] ?? 200_000);
const firstNames = ['JOHN', 'mary-jane', "Liam O'Brien", 'DeShawn', 'José', 'ANN'];
const notes = [
  '',
  'call after 5',
  'said "maybe", will confirm',
  'line one\nline two',
  'prefers SMS; no voice',
];

async function writeFile(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write('patient_id,first_name,last_name,phone,email,appt_date,appt_time,address,zip,notes\r\n');
  for (let i = 0; i < rows; i += 1) {
    const note = notes[i % notes.length] ?? '';
    const line = [
      `P${100000 + i}`,
      firstNames[i % firstNames.length],
      'Smith',
      `(415) 555-${String(i % 10000).padStart(4, '0')}`,
      `person${i}@example.com`,
      `${(i % 12) + 1}/${(i % 28) + 1}/2026`,
      `${(i % 12) + 1}:30 PM`,
      `"${i} Main St, Apt ${i % 50}"`,
      String(2134 + (i % 90000)),
      note.includes(',') || note.includes('"') || note.includes('\n')
        ? `"${note.replace(/"/g, '""')}"`
        : note,
    ].join(',');
    if (!out.write(`${line}\r\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function time(label: string, run: () => Promise<number>): Promise<void> {
  const heapBefore = process.memoryUsage().rss;
  const started = performance.now();
  const count = await run();
  const ms = performance.now() - started;
  const rssMb = (process.memoryUsage().rss - heapBefore) / 1024 / 1024;
  console.log(
    `${label.padEnd(42)} ${String(count).padStart(8)} rows ${ms.toFixed(0).padStart(6)} ms  ${((count / ms) * 1000).toFixed(0).padStart(8)} rows/s  rss +${rssMb.toFixed(0)} MB`,
  );
}

function csvParseOnData(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let count = 0;
    const parser = csvParse({ relax_column_count: true, max_record_size: 1 << 20 });
    parser.on('data', () => (count += 1));
    parser.on('end', () => resolve(count));
    parser.on('error', reject);
    createReadStream(path).pipe(parser);
  });
}

async function csvParseAsyncIterator(path: string): Promise<number> {
  let count = 0;
  const parser = createReadStream(path).pipe(csvParse({ relax_column_count: true }));
  for await (const record of parser) if (record) count += 1;
  return count;
}

function papaStep(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let count = 0;
    Papa.parse(createReadStream(path) as unknown as File, {
      step: () => (count += 1),
      complete: () => resolve(count),
      error: reject,
    });
  });
}

function papaNodeStream(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let count = 0;
    const parser = Papa.parse(Papa.NODE_STREAM_INPUT, {});
    parser.on('data', () => (count += 1));
    parser.on('end', () => resolve(count));
    parser.on('error', reject);
    createReadStream(path).pipe(parser);
  });
}

async function heraldReadCsv(path: string): Promise<number> {
  let count = 0;
  const reader = await readCsv(createReadStream(path));
  for await (const row of reader.rows()) if (row) count += 1;
  return count;
}

const dir = await mkdtemp(join(tmpdir(), 'herald-bench-'));
try {
  const path = join(dir, 'rows.csv');
  await writeFile(path);
  console.log(
    `file: ${rows} rows, ${((await stat(path)).size / 1024 / 1024).toFixed(1)} MB, node ${process.version}`,
  );
  for (let round = 1; round <= 2; round += 1) {
    console.log(`round ${round}`);
    await time('papaparse step (Readable input)', () => papaStep(path));
    await time('papaparse NODE_STREAM_INPUT on(data)', () => papaNodeStream(path));
    await time('csv-parse on(data)', () => csvParseOnData(path));
    await time('csv-parse for await', () => csvParseAsyncIterator(path));
    await time('herald readCsv (papaparse core, checked)', () => heraldReadCsv(path));
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
