// Test helpers for ingest: a fresh company with a load map, a file in S3, and a packet ingested through Temporal.
import { createHash, randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import type { App } from '../../lib/app';
import { startPacketIngest } from '../../lib/ingest/start-ingest';
import { readPacketSummary, type PacketSummary } from '../../lib/ingest/summary';
import { registerPacket, type PacketRow } from '../../lib/packets';
import type { LoadMapInput } from '../../schemas/load-map';

/** An EHR appointment export's map, like loadmaps/demo-clinic-ehr.json, for companies made by tests. */
export const EHR_MAP: LoadMapInput = {
  name: 'ehr',
  format: { kind: 'auto', encoding: 'auto' },
  fields: {
    external_id: { column: 'Patient ID', required: true },
    first_name: { column: 'First Name', required: true, rules: [{ rule: 'name' }] },
    last_name: { column: 'Last Name', required: true, rules: [{ rule: 'name', part: 'family' }] },
    phone: { column: ['Cell Phone', 'Home Phone'], rules: [{ rule: 'phone' }] },
    email: { column: 'Email', rules: [{ rule: 'email', onInvalid: 'blank' }] },
    appointment_date: {
      column: 'Appt Date',
      required: true,
      rules: [{ rule: 'date', formats: ['MM/DD/YYYY', 'M/D/YY', 'YYYY-MM-DD'] }],
    },
    appointment_time: { column: 'Appt Time', rules: [{ rule: 'time' }] },
    appointment_id: { column: 'Appointment ID' },
    appointment_status: { column: 'Status' },
    provider: { column: 'Provider', rules: [{ rule: 'name' }] },
    location: { column: 'Location' },
    zip: { column: 'Zip', rules: [{ rule: 'zip' }] },
    state: { column: 'State', rules: [{ rule: 'state' }] },
  },
  dedupe: { contact: ['external_id'], appointment: ['appointment_id'] },
};

export interface TestCompany {
  id: number;
  alias: string;
  loadMapId: number;
}

/** What the company and packet helpers use of an app: a world without one (the fault suite) passes its parts. */
export type IngestStore = Pick<App, 'sql' | 's3' | 'bucket'>;

export async function createTestCompany(
  app: Pick<App, 'sql'>,
  opts: { prefix?: string; timezone?: string; settings?: Record<string, unknown>; loadMap?: unknown } = {},
): Promise<TestCompany> {
  const alias = `${opts.prefix ?? 't'}-${randomUUID().slice(0, 8)}`;
  const [company] = await app.sql<{ id: number }[]>`
    insert into companies (alias, name, timezone, settings)
    values (${alias}, ${`Test ${alias}`}, ${opts.timezone ?? 'America/New_York'}, ${app.sql.json((opts.settings ?? {}) as never)})
    returning id`;
  const loadMapId = await addLoadMap(app, company!.id, opts.loadMap ?? EHR_MAP);
  return { id: company!.id, alias, loadMapId };
}

export async function addLoadMap(
  app: Pick<App, 'sql'>,
  companyId: number,
  map: unknown,
  name = (map as { name?: string }).name ?? 'ehr',
): Promise<number> {
  const [row] = await app.sql<{ id: number }[]>`
    insert into company_load_maps (company_id, name, version, load_map)
    values (${companyId}, ${name},
            coalesce((select max(version) + 1 from company_load_maps where company_id = ${companyId} and name = ${name}), 1),
            ${app.sql.json(map as never)})
    returning id`;
  return row!.id;
}

/** Puts the bytes under raw/ and registers them as a packet (the same bytes twice = the same packet). */
export async function putPacket(
  app: IngestStore,
  company: TestCompany,
  fileName: string,
  body: string | Buffer,
  opts: { loadMapId?: number | null; sourceId?: number; dedupeKey?: string; upload?: boolean } = {},
): Promise<{ packet: PacketRow; created: boolean }> {
  const sha = createHash('sha256').update(body).digest('hex');
  const key = `raw/${company.alias}/tests/${sha.slice(0, 16)}/${fileName}`;
  if (opts.upload !== false)
    await app.s3.send(new PutObjectCommand({ Bucket: app.bucket, Key: key, Body: body }));
  return registerPacket(
    app.sql,
    {
      companyId: company.id,
      sourceId: opts.sourceId ?? null,
      loadMapId: opts.loadMapId === undefined ? company.loadMapId : opts.loadMapId,
      dedupeKey: opts.dedupeKey ?? `test:sha256:${sha}`,
      objectKey: key,
      originalName: fileName,
      sizeBytes: Buffer.byteLength(body),
      checksum: sha,
    },
    'test',
  );
}

export interface IngestOutcome {
  summary: PacketSummary;
  workflowId: string;
  failure?: WorkflowFailedError;
}

/** Runs the packet's ingest on the test worker's queue and waits for it, failed or not. */
export async function runIngest(
  app: App,
  taskQueue: string,
  packet: PacketRow,
  companyAlias: string,
): Promise<IngestOutcome> {
  const start = await startPacketIngest(await app.client(), { packet, companyAlias, taskQueue });
  let failure: WorkflowFailedError | undefined;
  try {
    await start.handle.result();
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    failure = error;
  }
  return { summary: (await readPacketSummary(app.sql, packet.uuid))!, workflowId: start.workflowId, failure };
}

export async function ingestFile(
  app: App,
  taskQueue: string,
  company: TestCompany,
  fileName: string,
  body: string | Buffer,
  opts: Parameters<typeof putPacket>[4] = {},
): Promise<IngestOutcome & { packet: PacketRow }> {
  const { packet } = await putPacket(app, company, fileName, body, opts);
  return { packet, ...(await runIngest(app, taskQueue, packet, company.alias)) };
}

/** A CSV from a header and rows of values, quoting where needed. */
export function csv(header: string[], rows: (string | number | null)[][]): string {
  const cell = (v: string | number | null) => {
    const text = v === null ? '' : String(v);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

export const EHR_HEADER = [
  'Patient ID',
  'First Name',
  'Last Name',
  'Cell Phone',
  'Home Phone',
  'Email',
  'Appt Date',
  'Appt Time',
  'Appointment ID',
  'Status',
  'Provider',
  'Location',
  'Zip',
  'State',
  'Notes',
];

/** A date N days from now as MM/DD/YYYY, so appointments are always in the future. */
/** One EHR row of a Lee in MA: id, first name, date, time, and any other columns by header. */
export function ehrRow(
  id: string,
  first: string,
  date: string,
  time: string,
  more: Record<string, string> = {},
): string[] {
  return EHR_HEADER.map(
    (h) =>
      ({
        'Patient ID': id,
        'First Name': first,
        'Last Name': 'Lee',
        'Cell Phone': `61755501${id.slice(-2)}`,
        'Appt Date': date,
        'Appt Time': time,
        State: 'MA',
        ...more,
      })[h] ?? '',
  );
}

export function daysFromNow(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  return `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/${d.getUTCFullYear()}`;
}

/** An EHR file of `count` good appointments 12 days ahead; ids, names and appointment ids start with `prefix`. */
export function ehrRows(count: number, prefix: string): string {
  const day = daysFromNow(12);
  return csv(
    EHR_HEADER,
    Array.from({ length: count }, (_, i) => [
      `${prefix}${i}`,
      `Zelda${prefix}`,
      `Quixote${i}`,
      `617555${String(1000 + (i % 9000)).padStart(4, '0')}`,
      '',
      '',
      day,
      '10:00',
      `${prefix}-A${i}`,
      '',
      '',
      '',
      '02110',
      'MA',
      '',
    ]),
  );
}
