// What a later file does to what earlier files stored: moved appointments of feeds without ids, and blank cells.
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import type { MergeResult } from '../lib/ingest/merge';
import { dueSteps, loadCompanyPlan } from '../lib/messages/due-steps';
import {
  addLoadMap,
  createTestCompany,
  csv,
  daysFromNow,
  EHR_HEADER,
  ehrRow,
  EHR_MAP,
  ingestFile,
} from './support/ingest';
import { useWorkerEnv } from './support/worker-env';

let app: App;
let taskQueue: string;
useWorkerEnv((env) => {
  app = env.app;
  taskQueue = env.worker.taskQueue;
});

const day5 = daysFromNow(5);
const day9 = daysFromNow(9);

const NO_APPOINTMENT_IDS = { ...EHR_MAP, name: 'no-ids', dedupe: { contact: ['external_id'] } };

/** Each appointment, with the reminder steps its plan still has for it (what the reminder run would make). */
async function appointments(companyId: number) {
  const plan = await loadCompanyPlan(app.sql, companyId);
  const due = await app.sql<{ appointment_id: string; n: number }[]>`
    select d.appointment_id, count(*)::int as n
    from (${dueSteps(app.sql, { plan: plan!, now: new Date().toISOString(), dueBy: 'infinity' })}) d
    group by d.appointment_id`;
  const rows = await app.sql<{ id: string; first: string; time: string; status: string }[]>`
    select a.id, c.first_name as first, to_char(a.starts_at at time zone 'America/New_York', 'MM/DD HH24:MI') as time,
           a.status
    from appointments a join contacts c on c.id = a.contact_id
    where a.company_id = ${companyId} order by a.starts_at, c.first_name, a.id`;
  return rows.map((a) => ({
    ...a,
    reminders: due.find((d) => String(d.appointment_id) === String(a.id))?.n ?? 0,
  }));
}

describe('a feed without appointment ids', () => {
  it('treats the file as the truth for the days it covers: a moved time cancels the old appointment and its reminders', async () => {
    const company = await createTestCompany(app, { prefix: 'moved', loadMap: NO_APPOINTMENT_IDS });
    const otherFeed = await addLoadMap(app, company.id, { ...NO_APPOINTMENT_IDS, name: 'other-feed' });
    const first = await ingestFile(
      app,
      taskQueue,
      company,
      'monday.csv',
      csv(EHR_HEADER, [
        ehrRow('P01', 'Ann', day5, '10:00'),
        ehrRow('P02', 'Bob', day5, '11:00'),
        ehrRow('P03', 'Cy', day9, '09:00'),
      ]),
    );
    expect(first.summary.stage).toBe('done');
    // another feed of the company, the same day: not this file's to judge
    await ingestFile(
      app,
      taskQueue,
      company,
      'lab.csv',
      csv(EHR_HEADER, [ehrRow('P04', 'Dee', day5, '12:00')]),
      {
        loadMapId: otherFeed,
      },
    );
    const before = await appointments(company.id);
    expect(before.find((a) => a.first === 'Ann')!.reminders).toBeGreaterThan(0);

    // Ann's visit moved from 10:00 to 14:00; the file has no appointment ids, so it is a new row
    const second = await ingestFile(
      app,
      taskQueue,
      company,
      'monday-again.csv',
      csv(EHR_HEADER, [ehrRow('P01', 'Ann', day5, '14:00'), ehrRow('P02', 'Bob', day5, '11:00')]),
    );
    expect(second.summary.stage).toBe('done');
    const after = await appointments(company.id);
    const ann = after.filter((a) => a.first === 'Ann');
    expect(ann.map((a) => [a.time.slice(-5), a.status])).toEqual([
      ['10:00', 'cancelled'],
      ['14:00', 'scheduled'],
    ]);
    expect(ann[0]!.reminders).toBe(0);
    expect(ann[1]!.reminders).toBeGreaterThan(0);
    // Bob is in the file, Cy's day is not covered by it, Dee belongs to the other feed
    expect(after.filter((a) => a.first !== 'Ann').map((a) => [a.first, a.status])).toEqual([
      ['Bob', 'scheduled'],
      ['Dee', 'scheduled'],
      ['Cy', 'scheduled'],
    ]);
    const [merge] = await app.sql<{ merge: MergeResult }[]>`
      select metadata -> 'merge' as merge from data_packets where id = ${second.packet.id}`;
    expect(merge!.merge).toMatchObject({ appointmentsSuperseded: 1 });
  });
});

describe('a blank cell in a later file', () => {
  const firstFile = csv(EHR_HEADER, [
    ehrRow('P11', 'Eve', day5, '10:00', {
      Email: 'eve@example.com',
      'Home Phone': '6175550171',
      'Appointment ID': 'A11',
      Provider: 'Dr. Lee',
      Notes: 'wheelchair',
    }),
  ]);
  const blanks = csv(EHR_HEADER, [ehrRow('P11', 'Eve', day5, '10:00', { 'Appointment ID': 'A11' })]);

  async function stored(companyId: number) {
    const [row] = await app.sql`
      select c.email, a.data from contacts c join appointments a on a.contact_id = c.id
      where c.company_id = ${companyId} and c.external_id = 'P11'`;
    return row as { email: string | null; data: Record<string, unknown> };
  }

  it('keeps what an earlier file stored, by default', async () => {
    const company = await createTestCompany(app, { prefix: 'keep' });
    await ingestFile(app, taskQueue, company, 'one.csv', firstFile);
    await ingestFile(app, taskQueue, company, 'two.csv', blanks);
    expect(await stored(company.id)).toEqual({
      email: 'eve@example.com',
      data: { provider: 'Dr. Lee', Notes: 'wheelchair' },
    });
  });

  it('clears it when the load map says blankCells: clear, but not for a column the file does not have', async () => {
    const company = await createTestCompany(app, {
      prefix: 'clear',
      loadMap: { ...EHR_MAP, blankCells: 'clear' },
    });
    await ingestFile(app, taskQueue, company, 'one.csv', firstFile);
    await ingestFile(app, taskQueue, company, 'two.csv', blanks);
    expect(await stored(company.id)).toEqual({ email: null, data: {} });

    await ingestFile(app, taskQueue, company, 'three.csv', firstFile.replace('10:00', '10:00 '));
    const noEmailColumn = csv(
      EHR_HEADER.filter((h) => h !== 'Email'),
      [
        ehrRow('P11', 'Eve', day5, '10:00', { 'Appointment ID': 'A11', Notes: 'walker' }).filter(
          (_, i) => EHR_HEADER[i] !== 'Email',
        ),
      ],
    );
    await ingestFile(app, taskQueue, company, 'four.csv', noEmailColumn);
    expect(await stored(company.id)).toEqual({ email: 'eve@example.com', data: { Notes: 'walker' } });
  });
});
