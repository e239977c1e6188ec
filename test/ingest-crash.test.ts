// A database crash between staging and merge: staging rows live in an unlogged table that crash
// recovery empties, and the packet must still end with exactly its file's rows, never with none.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type App } from '../lib/app';
import { loadConfig } from '../lib/config';
import { COMPANY_INGEST_LOCK } from '../lib/ingest/merge';
import { createLogger } from '../lib/log';
import { startCrashablePostgres, type CrashablePostgres } from './chaos/support/servers';
import { startTestWorker, testActivities, type TestWorker } from './support/harness';
import { createTestCompany, csv, ehrRows, EHR_HEADER, ingestFile, type TestCompany } from './support/ingest';

let postgres: CrashablePostgres;
let app: App;
let worker: TestWorker;
let company: TestCompany;
let crashes = 0;
let dir: string;

beforeAll(async () => {
  const log = createLogger({ level: 'warn', pretty: false });
  dir = await mkdtemp(path.join(os.tmpdir(), 'herald-crash-'));
  // Postgres runs as its own user when we are root: it must reach its data directory inside this one
  await chmod(dir, 0o755);
  postgres = await startCrashablePostgres(dir, log);
  app = await openApp({
    config: loadConfig({ ...process.env, DATABASE_URL: postgres.url }),
    log,
    setUp: true,
  });
  const activities = testActivities(app);
  worker = await startTestWorker(app, {
    activities: {
      ...activities,
      // the first merge finds the database just back from a crash that came after staging committed
      mergePacketRows: async (input) => {
        if (crashes === 0) {
          crashes += 1;
          await postgres.crash();
          await postgres.start();
        }
        return activities.mergePacketRows(input);
      },
    },
  });
  company = await createTestCompany(app, { prefix: 'crash' });
});
afterAll(async () => {
  await worker?.stop();
  await app?.close();
  await postgres?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Postgres stopped in immediate mode between staging and merge', () => {
  it('stages the file again and loads exactly its rows', async () => {
    const good = ehrRows(40, 'C');
    const bad = csv(EHR_HEADER, [
      ['X1', 'Bad', 'Date', '6175550199', '', '', 'never', '10:00', 'X1-A', '', '', '', '02110', 'MA', ''],
    ]);
    const file = good + bad.slice(bad.indexOf('\r\n') + 2);
    // another session holds the company's merge lock, so the merge cannot run beside staging and comes
    // after it; the crash ends that session and its lock with it
    const holder = await app.sql.reserve();
    await holder`select pg_advisory_lock(${company.id}, ${COMPANY_INGEST_LOCK})`;
    const { packet, summary } = await ingestFile(app, worker.taskQueue, company, 'crash.csv', file);
    expect(crashes).toBe(1);
    holder.release();
    expect(summary).toMatchObject({ stage: 'done', rowsRead: 41, rowsLoaded: 40, rowsRejected: 1 });
    const [counts] = await app.sql<
      { contacts: number; appointments: number; rejects: number; staging: number }[]
    >`
      select (select count(*)::int from contacts where company_id = ${company.id}) as contacts,
             (select count(*)::int from appointments where company_id = ${company.id}) as appointments,
             (select count(*)::int from packet_rejects where packet_id = ${packet.id}) as rejects,
             (select count(*)::int from packet_rows where packet_id = ${packet.id}) as staging`;
    expect(counts).toEqual({ contacts: 40, appointments: 40, rejects: 1, staging: 0 });
    const events = await app.sql<{ event: string; details: Record<string, unknown> }[]>`
      select event, details from packet_events where packet_id = ${packet.id} order by id`;
    expect(events.find((e) => e.event.startsWith('staging rows lost'))?.details).toEqual({
      staged: 40,
      found: 0,
    });
  });
});
