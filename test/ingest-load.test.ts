import { GetObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { loadCompanyPlan } from '../lib/messages/due-steps';
import { packetReminders, upcomingReminders } from '../lib/messages/upcoming';
import { ingestProgressQuery } from '../workflows/ingest-packet';
import { eventually, type TestWorker } from './support/harness';
import {
  csv,
  daysFromNow,
  EHR_HEADER,
  ingestFile,
  putPacket,
  runIngest,
  type TestCompany,
} from './support/ingest';
import { useIngestEnv } from './support/ingest-env';

let app: App;
let worker: TestWorker;
let company: TestCompany;

useIngestEnv('load', (env) => ({ app, worker, company } = env));

const day5 = daysFromNow(5);
const day9 = daysFromNow(9);

describe('loading a packet', () => {
  it('maps, cleans, rejects, dedupes and merges the rows; their reminders are computed, not written', async () => {
    const file = csv(EHR_HEADER, [
      [
        'P1',
        'ANN',
        "O'BRIEN",
        '(617) 555-0101',
        '',
        'ANN@EXAMPLE.COM',
        day5,
        '2:30 PM',
        'A1',
        'Scheduled',
        'DR. MARIA ALVAREZ',
        'Harbor',
        '2110',
        'ma',
        'bring forms',
      ],
      [
        'P2',
        'bob',
        'de la cruz',
        '',
        '312.555.0102',
        '',
        day5,
        '14:00',
        'A2',
        '',
        'Dr. Lee',
        'Harbor',
        '60601',
        '',
        '',
      ],
      ['P3', 'Cy', 'McDonald', '555-12', '', '', day5, '9:00 AM', 'A3', '', '', '', '', '', ''],
      [
        'P1',
        'Ann',
        "O'Brien",
        '617-555-0101',
        '',
        'ann@example.com',
        day5,
        '2:30 PM',
        'A1',
        '',
        'Dr. Maria Alvarez',
        'Harbor',
        '02110',
        'MA',
        'dup',
      ],
      ['P4', 'Dee', 'Ray', '', '', 'dee@example.com', day9, '10:00', 'A4', '', '', '', '', 'Texas', ''],
      ['P5', '', 'Nobody', '6175550105', '', '', day5, '10:00', 'A5', '', '', '', '', '', ''],
    ]);
    const { packet, summary, workflowId, failure } = await ingestFile(
      app,
      worker.taskQueue,
      company,
      'appointments.csv',
      file,
    );
    expect(failure).toBeUndefined();
    expect(summary).toMatchObject({
      stage: 'done',
      rowsRead: 6,
      rowsRejected: 2,
      rowsDuplicate: 1,
      rowsLoaded: 3,
      error: null,
    });

    const contacts = await app.sql<
      {
        external_id: string;
        first_name: string;
        last_name: string;
        phone_e164: string | null;
        email: string | null;
        state: string | null;
        region: string;
        timezone: string;
      }[]
    >`
      select external_id, first_name, last_name, phone_e164, email, state, region, timezone
      from contacts where company_id = ${company.id} order by external_id`;
    expect(contacts).toEqual([
      {
        external_id: 'P1',
        first_name: 'Ann',
        last_name: "O'Brien",
        phone_e164: '+16175550101',
        email: 'ann@example.com',
        state: 'MA',
        region: 'northeast',
        timezone: 'America/New_York',
      },
      {
        external_id: 'P2',
        first_name: 'Bob',
        last_name: 'de la Cruz',
        phone_e164: '+13125550102',
        email: null,
        state: 'IL',
        region: 'midwest',
        timezone: 'America/Chicago',
      },
      {
        external_id: 'P4',
        first_name: 'Dee',
        last_name: 'Ray',
        phone_e164: null,
        email: 'dee@example.com',
        state: 'TX',
        region: 'south_central',
        timezone: 'America/Chicago',
      },
    ]);

    const rejects = await app.sql<
      { row_number: number; column_name: string | null; raw_value: string | null; reason: string }[]
    >`
      select row_number, column_name, raw_value, reason from packet_rejects where packet_id = ${packet.id} order by row_number`;
    expect(rejects).toEqual([
      {
        row_number: 4,
        column_name: 'Cell Phone',
        raw_value: '555-12',
        reason: '"555-12" is not a valid phone number for country US',
      },
      {
        row_number: 7,
        column_name: 'First Name',
        raw_value: null,
        reason: 'first name is required but blank',
      },
    ]);
    const report = await app.s3.send(new GetObjectCommand({ Bucket: app.bucket, Key: summary.rejectsKey! }));
    const text = await report.Body!.transformToString();
    expect(text.split('\r\n')[0]).toBe('row,column,value,reason');
    expect(text).toContain(
      '"4","Cell Phone","555-12","""555-12"" is not a valid phone number for country US"',
    );

    // ingest writes contacts and appointments only; what their reminders will be is computed from the plan
    const [written] = await app.sql<{ n: number }[]>`
      select count(*)::int as n from messages where company_id = ${company.id}`;
    expect(written!.n).toBe(0);
    const plan = (await loadCompanyPlan(app.sql, company.id))!;
    const now = new Date().toISOString();
    expect(await packetReminders(app.sql, plan, packet.id, now)).toEqual({
      appointments: 3,
      sent: 0,
      pending: 0,
      toCome: 9,
    });
    const upcoming = await upcomingReminders(app.sql, plan, {
      from: now,
      to: new Date(Date.now() + 60 * 86_400_000).toISOString(),
      now,
      limit: 100,
    });
    const [people] = await app.sql<{ ids: Record<string, string> }[]>`
      select jsonb_object_agg(a.uuid, c.external_id) as ids
      from appointments a join contacts c on c.id = a.contact_id where a.company_id = ${company.id}`;
    expect(
      upcoming.map((u) => `${people!.ids[u.appointmentId]} ${u.step} ${u.channel} ${u.status}`).sort(),
    ).toEqual([
      'P1 sms-2d sms to come',
      'P1 sms-2h sms to come',
      'P1 voice-1d voice to come',
      'P2 sms-2d sms to come',
      'P2 sms-2h sms to come',
      'P2 voice-1d voice to come',
      // no phone: the plan's fallback channel
      'P4 sms-2d email to come',
      'P4 sms-2h email to come',
      'P4 voice-1d email to come',
    ]);

    const events = await app.sql<
      { stage: string }[]
    >`select stage from packet_events where packet_id = ${packet.id} order by id`;
    expect(events.map((e) => e.stage)).toEqual([
      'received',
      'fetched',
      'parsed',
      'loaded',
      'regions_counted',
      'done',
    ]);

    const handle = (await app.client()).workflow.getHandle(workflowId);
    expect(await handle.query(ingestProgressQuery)).toMatchObject({
      stage: 'done',
      rowsRead: 6,
      rowsLoaded: 3,
    });
    const listed = await eventually(async () => {
      const client = await app.client();
      for await (const wf of client.workflow.list({
        query: `PacketId = '${packet.uuid}' AND PacketStage = 'done' AND CompanyAlias = '${company.alias}'`,
      })) {
        return wf;
      }
      return undefined;
    });
    expect(listed.workflowId).toBe(workflowId);
  });

  it('reads the appointment time in the zone of the map, else the location, else the company', async () => {
    const [row] = await app.sql<{ starts_at: Date; timezone: string }[]>`
      select starts_at, timezone from appointments where company_id = ${company.id} and external_id = 'A2'`;
    const [m, d, y] = day5.split('/').map(Number);
    // 14:00 in New York (the company's zone) on that day
    const expected = new Date(Date.UTC(y!, m! - 1, d!, 14, 0));
    const offsetHours = (expected.getTime() - row!.starts_at.getTime()) / 3_600_000;
    expect([-4, -5]).toContain(offsetHours);
    expect(row!.timezone).toBe('America/New_York');
  });

  it('treats the same file twice as one packet, and a new file of the same rows adds no duplicates', async () => {
    const file = csv(EHR_HEADER, [
      ['P9', 'Eve', 'Stone', '6175550109', '', '', day5, '11:00', 'A9', '', '', '', '02110', 'MA', ''],
    ]);
    const first = await ingestFile(app, worker.taskQueue, company, 'one.csv', file);
    expect(first.summary.stage).toBe('done');
    const again = await putPacket(app, company, 'one.csv', file);
    expect(again.created).toBe(false);
    expect(again.packet.uuid).toBe(first.packet.uuid);
    const rerun = await runIngest(app, worker.taskQueue, again.packet, company.alias);
    expect(rerun.summary.stage).toBe('done');

    const copy = await ingestFile(app, worker.taskQueue, company, 'one-again.csv', file + '\r\n');
    expect(copy.packet.uuid).not.toBe(first.packet.uuid);
    expect(copy.summary).toMatchObject({ stage: 'done', rowsLoaded: 1 });
    const [counts] = await app.sql<{ contacts: number; appointments: number }[]>`
      select (select count(*)::int from contacts where company_id = ${company.id} and external_id = 'P9') as contacts,
             (select count(*)::int from appointments where company_id = ${company.id} and external_id = 'A9') as appointments`;
    expect(counts).toEqual({ contacts: 1, appointments: 1 });
  });
});
