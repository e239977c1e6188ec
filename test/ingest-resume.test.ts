import { createReadStream } from 'node:fs';
import { writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCH_HEADER, BENCH_MAP, messyRows } from '../bench/messy-rows';
import type { App } from '../lib/app';
import { compileLoadMap } from '../lib/load-maps/compile';
import { bindMapper } from '../lib/ingest/row-mapper';
import { startPacketIngest } from '../lib/ingest/start-ingest';
import { readPacketSummary } from '../lib/ingest/summary';
import { openRows } from '../lib/parse';
import { eventually, openTestApp } from './support/harness';
import { createTestCompany, putPacket, type TestCompany } from './support/ingest';
import { killWorkerProcesses, startWorkerProcess } from './support/worker-process';

const ROWS = 200_000;
// heartbeats reach Temporal within a second (not the 16 s a 20 s heartbeat timeout allows), so one with
// committed rows is there to resume from long before a quiet machine has loaded all the rows
const HEARTBEAT_SOON = { WORKER_HEARTBEAT_THROTTLE_MS: '1000' };
let app: App;
let company: TestCompany;

beforeAll(async () => {
  app = await openTestApp();
  company = await createTestCompany(app, { prefix: 'resume', loadMap: BENCH_MAP });
});
afterAll(async () => {
  killWorkerProcesses();
  await app?.close();
});

/** What a clean run must end with, computed from the file by the same mapper, without any database. */
async function expectedOutcome(file: string) {
  const reader = await openRows(createReadStream(file));
  const map = bindMapper(compileLoadMap(BENCH_MAP, 'bench'), reader.headers, {
    companyTimezone: 'America/New_York',
    locationTimezone: () => undefined,
  });
  let rejected = 0;
  const contacts = new Set<string>();
  const appointments = new Set<string>();
  for await (const row of reader.rows()) {
    const mapped = map(row);
    if (!mapped.ok) rejected += 1;
    else {
      contacts.add(mapped.row.contactKey);
      appointments.add(mapped.row.appointmentKey!);
    }
  }
  return { rejected, contacts: contacts.size, appointments: appointments.size };
}

describe('a worker killed in the middle of a large load', () => {
  it('is replaced, and the packet completes from its last heartbeat with exactly the right rows', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-resume-'));
    const file = path.join(dir, 'large.csv');
    let text = BENCH_HEADER;
    for (const row of messyRows(ROWS)) text += row.line;
    await writeFile(file, text);
    const expected = await expectedOutcome(file);
    const { packet } = await putPacket(app, company, 'large.csv', Buffer.from(text));
    text = '';

    const taskQueue = `test-resume-${packet.uuid}`;
    const first = await startWorkerProcess(taskQueue, HEARTBEAT_SOON);
    const { handle } = await startPacketIngest(await app.client(), {
      packet,
      companyAlias: company.alias,
      taskQueue,
    });

    // wait until Temporal holds a heartbeat with committed progress, then kill the worker outright
    const heartbeatRow = await eventually(async () => {
      const pending = (await handle.describe()).raw.pendingActivities?.[0];
      // preparePacket comes before the load; any later activity means the load ended unseen
      if (pending && !['preparePacket', 'stagePacketRows'].includes(pending.activityType?.name ?? ''))
        throw new Error(`the load ended before a heartbeat was seen (now in ${pending.activityType?.name})`);
      const payload = pending?.heartbeatDetails?.payloads?.[0]?.data;
      if (!payload) return undefined;
      const progress = JSON.parse(Buffer.from(payload).toString()) as { row: number };
      return progress.row > 0 ? progress.row : undefined;
    }, 120_000);
    first.kill('SIGKILL');
    expect(heartbeatRow).toBeLessThan(ROWS);

    await startWorkerProcess(taskQueue, HEARTBEAT_SOON);
    await handle.result();

    const summary = (await readPacketSummary(app.sql, packet.uuid))!;
    expect(summary).toMatchObject({ stage: 'done', rowsRead: ROWS, rowsRejected: expected.rejected });
    expect(summary.rowsLoaded).toBe(expected.appointments);
    const [counts] = await app.sql<
      { contacts: number; appointments: number; rejects: number; rejectRows: number; staging: number }[]
    >`
      select (select count(*)::int from contacts where company_id = ${company.id}) as contacts,
             (select count(*)::int from appointments where company_id = ${company.id}) as appointments,
             (select count(*)::int from packet_rejects where packet_id = ${packet.id}) as rejects,
             (select count(distinct row_number)::int from packet_rejects where packet_id = ${packet.id}) as "rejectRows",
             (select count(*)::int from packet_rows where packet_id = ${packet.id}) as staging`;
    expect(counts).toEqual({
      contacts: expected.contacts,
      appointments: expected.appointments,
      rejects: expected.rejected,
      rejectRows: expected.rejected,
      staging: 0,
    });
    const [parsed] = await app.sql<{ details: { resumedFromRow: number } }[]>`
      select details from packet_events where packet_id = ${packet.id} and stage = 'parsed'`;
    // heartbeats only move forward, so the retry resumed at or after the one seen before the kill
    expect(parsed!.details.resumedFromRow).toBeGreaterThanOrEqual(heartbeatRow);
  }, 600_000);
});
