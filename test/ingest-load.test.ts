import { GetObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
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
  it('maps, cleans, rejects, dedupes and merges the rows, and plans their reminders', async () => {
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

    const messages = await app.sql<
      {
        external_id: string;
        channel: string;
        plan_step: string;
        state: string;
        region: string;
        data: Record<string, unknown>;
      }[]
    >`
      select c.external_id, m.channel, m.plan_step, m.state, m.region, m.data
      from messages m join contacts c on c.id = m.contact_id where m.packet_id = ${packet.id} order by c.external_id, m.contact_at`;
    expect(messages.map((m) => `${m.external_id} ${m.plan_step} ${m.channel}`)).toEqual([
      'P1 sms-2d sms',
      'P1 voice-1d voice',
      'P1 sms-2h sms',
      'P2 sms-2d sms',
      'P2 voice-1d voice',
      'P2 sms-2h sms',
      'P4 sms-2d email',
      'P4 voice-1d email',
      'P4 sms-2h email',
    ]);
    expect(summary.messagesPlanned).toBe(9);
    expect(messages[0]!.data).toMatchObject({
      first_name: 'Ann',
      last_name: "O'Brien",
      provider: 'Dr. Maria Alvarez',
      location: 'Harbor',
      Notes: 'dup',
    });
    expect(messages.every((m) => m.state === 'scheduled')).toBe(true);

    const events = await app.sql<
      { stage: string }[]
    >`select stage from packet_events where packet_id = ${packet.id} order by id`;
    expect(events.map((e) => e.stage)).toEqual([
      'received',
      'fetched',
      'parsed',
      'loaded',
      'sharded',
      'planned',
      'done',
    ]);

    const handle = (await app.client()).workflow.getHandle(workflowId);
    expect(await handle.query(ingestProgressQuery)).toMatchObject({
      stage: 'done',
      rowsRead: 6,
      rowsLoaded: 3,
      messagesPlanned: 9,
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
    expect(copy.summary).toMatchObject({ stage: 'done', rowsLoaded: 1, messagesPlanned: 0 });
    const [counts] = await app.sql<{ contacts: number; appointments: number; messages: number }[]>`
      select (select count(*)::int from contacts where company_id = ${company.id} and external_id = 'P9') as contacts,
             (select count(*)::int from appointments where company_id = ${company.id} and external_id = 'A9') as appointments,
             (select count(*)::int from messages m join appointments a on a.id = m.appointment_id
              where a.company_id = ${company.id} and a.external_id = 'A9') as messages`;
    expect(counts).toEqual({ contacts: 1, appointments: 1, messages: 3 });
  });
});
