// The onboarding walkthrough (docs/onboarding.md) through the CLI alone: a company, its number, template,
// credits, a suggested and adjusted load map, a source, a first packet and a reminder run that sends.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { regionTaskQueue, SCHEDULE_IDS, TASK_QUEUES } from '../lib/names';
import { herald } from './support/cli';
import { eventually, openTestApp } from './support/harness';
import { csv } from './support/ingest';
import { killWorkerProcesses, startWorkerProcess } from './support/worker-process';

let app: App;
let dir: string;
const alias = `walk-${randomUUID().slice(0, 8)}`;
const sourceUuid: string[] = [];

beforeAll(async () => {
  app = await openTestApp();
  dir = await mkdtemp(path.join(os.tmpdir(), 'herald-walk-'));
  // one worker process as production runs it: ingest and runs, the company's region, every send queue
  await startWorkerProcess(`${TASK_QUEUES.pipeline},${regionTaskQueue('northeast')}`);
});
afterAll(async () => {
  killWorkerProcesses();
  const client = await app?.client();
  for (const uuid of sourceUuid)
    await client?.schedule
      .getHandle(SCHEDULE_IDS.discoverSource(uuid))
      .delete()
      .catch(() => {});
  await app?.close();
});

/** Runs a command the way the walkthrough shows it; a failure shows what the operator would have seen. */
async function step(args: string[]): Promise<string> {
  const run = await herald(args, { HERALD_ACTOR: 'ops:onboarding' });
  expect({ args: args.slice(0, 2), code: run.code, stderr: run.stderr }).toEqual({
    args: args.slice(0, 2),
    code: 0,
    stderr: '',
  });
  return run.stdout;
}

// the export a new clinic sends, headed as its system heads it: not what any map of ours expects
const visit = DateTime.now().setZone('America/New_York').plus({ days: 5 }).set({ hour: 14, minute: 30 });
const EXPORT = csv(
  [
    'Patient First',
    'Patient Last',
    'E-mail',
    'Phone',
    'Appointment Date',
    'Appointment Time',
    'Doctor',
    'Clinic',
    'State',
  ],
  [
    [
      'Maria',
      'Gonzalez',
      'maria.gonzalez@example.com',
      '(617) 555-0161',
      visit.toFormat('MM/dd/yyyy'),
      '2:30 PM',
      'Dr. Ana Alvarez',
      'Back Bay',
      'MA',
    ],
    [
      'KEVIN',
      'SMITH',
      '',
      '617-555-0162',
      visit.toFormat('MM/dd/yyyy'),
      '3:00 PM',
      'Dr. Ana Alvarez',
      'Back Bay',
      'MA',
    ],
  ],
);

describe('onboarding a company from the CLI alone', () => {
  it('takes a company from nothing to a reminder sent from its own number', async () => {
    const number = `+1617555${String(1000 + Math.floor(Math.random() * 8999))}`;
    await step([
      'companies',
      'add',
      alias,
      '--name',
      'Back Bay Clinic',
      '--timezone',
      'America/New_York',
      '--reminder-plan',
      '[{"step":"sms-1d","channel":"sms","template":"appointment_reminder","offset":{"days":-1},"at":"10:00"}]',
      '--limit',
      'sms-per-day=1000',
    ]);
    await step(['senders', 'add', number, '--company', alias, '--channel', 'sms']);
    const template = path.join(dir, 'appointment_reminder.txt');
    await writeFile(
      template,
      'Hi {data.first_name}, {company.name} expects you {data.appointment_date|date|dddd [at] h:mm A}. Reply C to confirm.\n',
    );
    expect(await step(['templates', 'set', template, '--company', alias, '--channel', 'sms'])).toContain(
      'version 1 saved',
    );
    await step(['credits', 'grant', '100', '--company', alias, '--reason', 'first order']);

    // the load map: suggested from the export, adjusted by the operator, checked, recorded
    const exportFile = path.join(dir, 'backbay-appointments.csv');
    await writeFile(exportFile, EXPORT);
    const mapFile = path.join(dir, 'backbay.json');
    const suggested = await step([
      'loadmap',
      'suggest',
      exportFile,
      '--company',
      alias,
      '--name',
      'backbay',
      '--out',
      mapFile,
    ]);
    expect(suggested).toContain('the map passes loadmap validate');
    const map = JSON.parse(await readFile(mapFile, 'utf8')) as {
      fields: Record<string, { column: string | string[] }>;
      dedupe: { contact: string[] };
    };
    expect(Object.fromEntries(Object.entries(map.fields).map(([f, s]) => [f, s.column]))).toEqual({
      first_name: 'Patient First',
      last_name: 'Patient Last',
      email: 'E-mail',
      phone: 'Phone',
      appointment_date: 'Appointment Date',
      appointment_time: 'Appointment Time',
      provider: 'Doctor',
      location: 'Clinic',
      state: 'State',
    });
    // the clinic's phone numbers are the people's own: a bad one blanks the phone, not the row
    (map.fields.phone as Record<string, unknown>).rules = [{ rule: 'phone', onInvalid: 'blank' }];
    await writeFile(mapFile, JSON.stringify(map, null, 2));
    expect(await step(['loadmap', 'validate', mapFile])).toContain('valid: load map backbay');
    expect(await step(['loadmap', 'preview', exportFile, '--company', alias, '--map', mapFile])).toContain(
      '2 rows shown, 2 ok, 0 rejected',
    );
    expect(await step(['loadmap', 'add', mapFile, '--company', alias])).toContain('version 1 recorded');

    // the source and its first packet
    const prefix = `inbox/${alias}/`;
    const added = JSON.parse(
      await step([
        'sources',
        'add',
        '--company',
        alias,
        '--name',
        'nightly',
        '--kind',
        's3',
        '--bucket',
        app.bucket,
        '--prefix',
        prefix,
        '--glob',
        '*.csv',
        '--load-map',
        'backbay',
        '--on-drift',
        'hold',
        '--json',
      ]),
    ) as { source: { uuid: string } };
    sourceUuid.push(added.source.uuid);
    await app.s3.send(
      new PutObjectCommand({ Bucket: app.bucket, Key: `${prefix}appointments.csv`, Body: EXPORT }),
    );
    expect(await step(['sources', 'run', 'nightly', '--company', alias])).toContain(
      'listed 1, new packets 1',
    );
    const packet = await eventually(async () => {
      const list = JSON.parse(await step(['packets', 'list', '--company', alias, '--json'])) as {
        stage: string;
        rowsLoaded: number;
      }[];
      return list[0]?.stage === 'done' ? list[0] : undefined;
    }, 90_000);
    expect(packet.rowsLoaded).toBe(2);

    // the reminder run the day before, after 10:00 in Boston: both texts go out from the clinic's number
    const runAt = visit.minus({ days: 1 }).set({ hour: 10, minute: 5 }).toUTC().toISO()!;
    const run = await step(['reminders', 'run', '--company', alias, '--now', runAt]);
    expect(run).toContain(`Reminder run of ${alias} at `);
    const sent = await app.sql<{ from_address: string; to_address: string; body: string }[]>`
      select o.from_address, o.to_address, o.body from outbox_messages o join companies c on c.id = o.company_id
      where c.alias = ${alias} order by o.to_address`;
    expect(sent.map((s) => [s.from_address, s.to_address])).toEqual([
      [number, '+16175550161'],
      [number, '+16175550162'],
    ]);
    expect(sent[0]!.body).toBe(
      `Hi Maria, Back Bay Clinic expects you ${visit.toFormat("cccc 'at' h:mm a")}. Reply C to confirm.`,
    );
    expect(sent[1]!.body).toMatch(/^Hi Kevin, /);

    const shown = JSON.parse(await step(['companies', 'show', alias, '--json'])) as {
      credits: { balance: number };
    };
    expect(shown.credits.balance).toBe(98);
    const [audited] = await app.sql<{ n: number }[]>`
      select count(*)::int as n from audit_log l join companies c on c.id = l.company_id
      where c.alias = ${alias} and l.actor = 'ops:onboarding'`;
    expect(audited!.n).toBeGreaterThanOrEqual(6);
  });
});
