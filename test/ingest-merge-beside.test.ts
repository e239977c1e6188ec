// The merge beside staging, fed one committed chunk at a time, stores what the merge after staging stores.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import {
  COMPANY_INGEST_LOCK,
  mergeAlongsideStaging,
  mergePacketRows,
  type MergeAlongside,
  type MergeResult,
} from '../lib/ingest/merge';
import { loadPacketContext } from '../lib/ingest/packet-context';
import { stageRows } from '../lib/ingest/stage-rows';
import {
  createTestCompany,
  csv,
  daysFromNow,
  EHR_HEADER,
  EHR_MAP,
  ehrRow,
  ingestFile,
  putPacket,
  type TestCompany,
} from './support/ingest';
import { useWorkerEnv } from './support/worker-env';

let app: App;
let taskQueue: string;
useWorkerEnv((env) => {
  app = env.app;
  taskQueue = env.worker.taskQueue;
});

const day5 = daysFromNow(5);
const day6 = daysFromNow(6);

// What the company had before the file: Eve with an email and a confirmed visit, Abe with notes.
const earlier = csv(EHR_HEADER, [
  ehrRow('P21', 'Eve', day5, '10:00', {
    Email: 'eve@before.example',
    'Appointment ID': 'A21',
    Notes: 'first',
  }),
  ehrRow('P22', 'Abe', day5, '11:00', { 'Appointment ID': 'A22', Notes: 'ramp' }),
]);
// Each of Eve's, Abe's and Zed's rows lands in another chunk (one row per chunk below). The last row of
// each wins; what its blank cells keep is the value from before the file, not an earlier row's.
const file = csv(EHR_HEADER, [
  ehrRow('P21', 'Eve', day5, '10:00', { Email: 'eve@row1.example', 'Appointment ID': 'A21', Notes: 'row 1' }),
  ehrRow('P23', 'Zed', day6, '09:00', { Email: 'zed@row2.example', 'Appointment ID': 'A23' }),
  ehrRow('P22', 'Abe', day5, '11:00', { 'Appointment ID': 'A22' }),
  ehrRow('P21', 'Eve', day6, '15:00', { 'Appointment ID': 'A21' }),
  ehrRow('P23', 'Zed', day6, '09:30', { 'Appointment ID': 'A23' }),
]);

/** Stages the packet; with `beside`, merges each committed chunk (of `chunkRows`) as staging goes on. */
async function load(company: TestCompany, name: string, beside: boolean, chunkRows = 1, content = file) {
  const { packet } = await putPacket(app, company, name, content);
  const context = await loadPacketContext(app.sql, packet.uuid);
  let merge: MergeAlongside | undefined;
  await stageRows({
    sql: app.sql,
    context,
    input: Readable.from([Buffer.from(content)]),
    chunkRows,
    onHeader: beside
      ? async (header) => {
          const opened = await mergeAlongsideStaging(app.sql, context, header, {});
          if (opened === 'busy') throw new Error('the company lock was taken');
          merge = opened;
        }
      : undefined,
    onProgress: (progress) => merge?.through(progress.row),
  });
  if (!beside)
    await app.sql`update data_packets set metadata = metadata || ${app.sql.json({ header: EHR_HEADER })} where id = ${packet.id}`;
  const result = beside ? await merge!.finish() : await mergePacketRows(app.sql, context);
  return { packet, result: result as MergeResult };
}

/** The company's contacts and appointments, without ids or times of writing. */
async function stored(companyId: number) {
  const contacts = await app.sql`
    select external_id, first_name, email, phone_e164, region, timezone, language, data
    from contacts where company_id = ${companyId} order by external_id`;
  const appointments = await app.sql`
    select external_id, starts_at, previous_starts_at, status, data,
           starts_at_set_at = (select max(starts_at_set_at) from appointments where company_id = ${companyId}) as moved_now
    from appointments where company_id = ${companyId} order by external_id`;
  return { contacts: [...contacts], appointments: [...appointments] };
}

describe('the merge beside staging', () => {
  it('stores, chunk by chunk, what the merge of the whole staged file stores', async () => {
    const beside = await createTestCompany(app, { prefix: 'beside' });
    const after = await createTestCompany(app, { prefix: 'after' });
    for (const company of [beside, after]) {
      const first = await ingestFile(app, taskQueue, company, 'earlier.csv', earlier);
      expect(first.summary.stage).toBe('done');
      await app.sql`update appointments set status = 'confirmed' where company_id = ${company.id} and external_id = 'A21'`;
    }
    const a = await load(beside, 'today.csv', true);
    const b = await load(after, 'today.csv', false);
    expect({ ...a.result, regions: undefined }).toEqual({ ...b.result, regions: undefined });
    expect(a.result.regions).toEqual(b.result.regions);
    expect(a.result).toMatchObject({
      rowsLoaded: 3,
      rowsDuplicate: 2,
      contactsCreated: 1,
      contactsUpdated: 2,
      appointmentsCreated: 1,
      appointmentsUpdated: 2,
    });
    const mine = await stored(beside.id);
    expect(mine).toEqual(await stored(after.id));

    const eve = mine.contacts.find((c) => c.external_id === 'P21')!;
    // the last row's blank email keeps the one from before the file, not row 1's
    expect(eve.email).toBe('eve@before.example');
    const zed = mine.contacts.find((c) => c.external_id === 'P23')!;
    // new to the database: the last row is all there is, blank and all
    expect(zed.email).toBeNull();
    const visit = mine.appointments.find((x) => x.external_id === 'A21')!;
    // moved by the file: it moved from the time stored before the file, and is no longer confirmed
    const [was] = await app.sql<{ t: Date }[]>`
      select (to_date(${day5}, 'MM/DD/YYYY') + time '10:00') at time zone 'America/New_York' as t`;
    expect(visit.previous_starts_at).toEqual(was!.t);
    expect(visit.status).toBe('scheduled');
    expect(visit.data).toEqual({ Notes: 'first' });
    expect(mine.appointments.find((x) => x.external_id === 'A22')!.data).toEqual({ Notes: 'ramp' });
  });

  it('counts a contact named only in rows without an appointment once, beside staging as after it', async () => {
    const optionalDates = {
      ...EHR_MAP,
      name: 'optional-dates',
      fields: {
        ...EHR_MAP.fields,
        appointment_date: { ...EHR_MAP.fields.appointment_date!, required: false },
      },
    };
    // Ann has a visit and a row without one; Bea two rows without one; Cal a visit
    const contactsToo = csv(EHR_HEADER, [
      ehrRow('P31', 'Ann', day5, '10:00', { 'Appointment ID': 'A31' }),
      ehrRow('P31', 'Ann', '', ''),
      ehrRow('P32', 'Bea', '', ''),
      ehrRow('P32', 'Bea', '', ''),
      ehrRow('P33', 'Cal', day6, '09:00', { 'Appointment ID': 'A33' }),
    ]);
    const results: MergeResult[] = [];
    for (const beside of [true, false]) {
      const company = await createTestCompany(app, { prefix: 'no-visit', loadMap: optionalDates });
      results.push((await load(company, 'contacts-too.csv', beside, 2, contactsToo)).result);
    }
    expect(results[0]).toEqual(results[1]);
    // two visits and the two contacts named without one are loaded; Bea's second row is a duplicate
    expect(results[0]).toMatchObject({
      rowsLoaded: 4,
      rowsDuplicate: 1,
      contactsCreated: 3,
      appointmentsCreated: 2,
    });
    expect(results[0]!.regions.reduce((n, r) => n + r.contacts, 0)).toBe(3);
  });

  it('stands aside when another packet of the company is merging, and then the merge after staging runs', async () => {
    const company = await createTestCompany(app, { prefix: 'busy' });
    const { packet } = await putPacket(app, company, 'busy.csv', file);
    const context = await loadPacketContext(app.sql, packet.uuid);
    const holder = await app.sql.reserve();
    try {
      await holder`select pg_advisory_lock(${company.id}, ${COMPANY_INGEST_LOCK})`;
      expect(await mergeAlongsideStaging(app.sql, context, EHR_HEADER, {})).toBe('busy');
      await holder`select pg_advisory_unlock(${company.id}, ${COMPANY_INGEST_LOCK})`;
    } finally {
      holder.release();
    }
    const outcome = await ingestFile(app, taskQueue, company, 'busy-again.csv', file);
    expect(outcome.summary).toMatchObject({ stage: 'done', rowsLoaded: 3, rowsDuplicate: 2 });
  });

  it('commits nothing when staging fails part-way', async () => {
    const company = await createTestCompany(app, { prefix: 'abandon' });
    const { packet } = await putPacket(app, company, 'abandon.csv', file);
    const context = await loadPacketContext(app.sql, packet.uuid);
    let merge: MergeAlongside | undefined;
    let chunks = 0;
    await expect(
      stageRows({
        sql: app.sql,
        context,
        input: Readable.from([Buffer.from(file)]),
        chunkRows: 1,
        onHeader: async (header) => {
          merge = (await mergeAlongsideStaging(app.sql, context, header, {})) as MergeAlongside;
        },
        onProgress: (progress) => {
          merge!.through(progress.row);
          chunks += 1;
          if (chunks === 3) throw new Error('the worker lost its heartbeat');
        },
      }),
    ).rejects.toThrow('heartbeat');
    await merge!.abandon();
    const [left] = await app.sql<{ contacts: number; merged: boolean }[]>`
      select (select count(*)::int from contacts where company_id = ${company.id}) as contacts,
             (select merged_at is not null from data_packets where id = ${packet.id}) as merged`;
    expect(left).toEqual({ contacts: 0, merged: false });
  });
});
