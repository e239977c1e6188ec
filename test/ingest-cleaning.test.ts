// Each cleaning rule as a load map applies it to a file's rows, read back from contacts and appointments.
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import type { TestWorker } from './support/harness';
import { useWorkerEnv } from './support/worker-env';
import { createTestCompany, csv, ingestFile, type TestCompany } from './support/ingest';

let app: App;
let worker: TestWorker;

useWorkerEnv((env) => ({ app, worker } = env));

const year = new Date().getUTCFullYear() + 1;

/** A roster-like export: one datetime column read in the map's zone, GB phones allowed, defaults. */
const MAP = {
  name: 'rules',
  timezone: 'America/Chicago',
  fields: {
    external_id: { column: 'ID' },
    first_name: { column: 'Given', rules: [{ rule: 'name', part: 'given' }] },
    last_name: { column: 'Family', rules: [{ rule: 'name', part: 'family' }] },
    phone: { column: ['Mobile', 'Landline'], rules: [{ rule: 'phone', onInvalid: 'blank' }] },
    email: { column: 'Mail', rules: [{ rule: 'email' }] },
    appointment_date: {
      column: 'When',
      rules: [{ rule: 'datetime', formats: ['MM/DD/YYYY', 'ISO', 'h:mm A', 'HH:mm', 'excel'] }],
    },
    zip: { column: 'Postal', rules: [{ rule: 'zip', plus4: 'drop' }] },
    state: { column: 'Region', rules: [{ rule: 'state' }] },
    location: { column: 'Site', rules: [{ rule: 'text', maxLength: 40 }] },
    language: { default: 'es' },
  },
  dedupe: { contact: ['external_id'] },
};

const HEADER = [
  'ID',
  'Given',
  'Family',
  'Mobile',
  'Landline',
  'Mail',
  'When',
  'Postal',
  'Region',
  'Site',
  'Shoe Size',
];

interface ContactRow {
  external_id: string;
  first_name: string;
  last_name: string;
  phone_e164: string | null;
  email: string | null;
  zip: string | null;
  state: string | null;
  language: string;
  data: Record<string, unknown>;
  starts_at: Date | null;
}

async function loaded(company: TestCompany): Promise<Map<string, ContactRow>> {
  const rows = await app.sql<ContactRow[]>`
    select c.external_id, c.first_name, c.last_name, c.phone_e164, c.email, c.zip, c.state, c.language,
           coalesce(a.data, c.data) as data, a.starts_at
    from contacts c left join appointments a on a.contact_id = c.id
    where c.company_id = ${company.id}`;
  return new Map(rows.map((r) => [r.external_id, r]));
}

describe('cleaning rules applied through a load map', () => {
  it('cleans names, phones, emails, date-times, ZIPs and states, fills defaults and keeps other columns', async () => {
    const company = await createTestCompany(app, { prefix: 'rules', loadMap: MAP });
    const file = csv(HEADER, [
      [
        '1',
        'JOHN  PAUL',
        'DE LA CRUZ',
        '(312) 555-0142',
        '',
        '  John@Example.COM ',
        `03/15/${year} 2:30 PM`,
        '606011234',
        'illinois',
        'North Campus',
        '44',
      ],
      [
        '2',
        'mary-jane',
        "o'brien",
        '',
        '+44 20 7946 0958',
        'mj@example.com',
        `${year}-03-15T09:00:00-05:00`,
        '2110',
        'MA',
        'South',
        '',
      ],
      [
        '3',
        'Ronald',
        'McDonald',
        '555',
        '',
        'ron@example.com',
        `${year}-07-04 14:30`,
        '02134-5678',
        'ma',
        'x',
        '9',
      ],
    ]);
    const { summary } = await ingestFile(app, worker.taskQueue, company, 'rules.csv', file);
    expect(summary).toMatchObject({ stage: 'done', rowsLoaded: 3, rowsRejected: 0 });
    const rows = await loaded(company);

    expect(rows.get('1')).toMatchObject({
      first_name: 'John Paul',
      last_name: 'de la Cruz',
      phone_e164: '+13125550142',
      email: 'john@example.com',
      zip: '60601',
      state: 'IL',
      language: 'es',
    });
    // 2:30 PM in Chicago (the map's zone) in March of next year, daylight time: 19:30 UTC
    expect(rows.get('1')!.starts_at!.toISOString()).toBe(`${year}-03-15T19:30:00.000Z`);
    expect(rows.get('1')!.data).toMatchObject({ 'Shoe Size': '44', location: 'North Campus' });

    // a blank first choice falls back to the next column; an explicit offset keeps its own instant
    expect(rows.get('2')).toMatchObject({
      first_name: 'Mary-Jane',
      last_name: "O'Brien",
      phone_e164: '+442079460958',
      zip: '02110',
      state: 'MA',
    });
    expect(rows.get('2')!.starts_at!.toISOString()).toBe(`${year}-03-15T14:00:00.000Z`);

    // mixed case is kept as written; an invalid phone is blanked (onInvalid: blank), the email reaches them
    expect(rows.get('3')).toMatchObject({
      first_name: 'Ronald',
      last_name: 'McDonald',
      phone_e164: null,
      email: 'ron@example.com',
      zip: '02134',
    });
    expect(rows.get('3')!.starts_at!.toISOString()).toBe(`${year}-07-04T19:30:00.000Z`);
  });

  it("reads Excel date and time cells, and date serials, in the location's zone when the map has none", async () => {
    const map = {
      name: 'xlsx',
      fields: {
        external_id: { column: 'ID' },
        first_name: { column: 'First' },
        last_name: { column: 'Last' },
        email: { column: 'Email' },
        appointment_date: { column: 'Date', rules: [{ rule: 'date' }] },
        appointment_time: { column: 'Time' },
        location: { column: 'Office' },
      },
      dedupe: { contact: ['external_id'] },
    };
    const company = await createTestCompany(app, {
      prefix: 'xlsx',
      loadMap: map,
      timezone: 'America/New_York',
    });
    await app.sql`
      insert into company_locations (company_id, name, timezone) values (${company.id}, 'Denver Office', 'America/Denver')`;
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('Appointments');
    sheet.addRow(['ID', 'First', 'Last', 'Email', 'Date', 'Time', 'Office']);
    sheet.addRow([
      'X1',
      'Ann',
      'Lee',
      'ann@example.com',
      new Date(Date.UTC(year, 5, 1)),
      new Date(Date.UTC(1899, 11, 30, 15, 45)),
      'Denver office',
    ]);
    // a date serial typed as a number, and a time as a day fraction
    const serial = (Date.UTC(year, 5, 2) - Date.UTC(1899, 11, 30)) / 86_400_000;
    sheet.addRow(['X2', 'Bo', 'Ray', 'bo@example.com', serial, 0.375, 'Elsewhere']);
    sheet.getCell('E3').numFmt = 'mm/dd/yyyy';
    const bytes = Buffer.from(await book.xlsx.writeBuffer());
    const { summary } = await ingestFile(app, worker.taskQueue, company, 'appointments.xlsx', bytes);
    expect(summary).toMatchObject({ stage: 'done', rowsLoaded: 2, rowsRejected: 0 });
    const rows = await loaded(company);
    // 15:45 in Denver (the row's location) = 21:45 UTC in June; 09:00 in New York (the company) = 13:00 UTC
    expect(rows.get('X1')!.starts_at!.toISOString()).toBe(`${year}-06-01T21:45:00.000Z`);
    expect(rows.get('X2')!.starts_at!.toISOString()).toBe(`${year}-06-02T13:00:00.000Z`);
    const [appointment] = await app.sql<{ timezone: string; location_id: number | null }[]>`
      select timezone, location_id from appointments where company_id = ${company.id} and dedupe_key like 'x1%'`;
    expect(appointment).toMatchObject({ timezone: 'America/Denver' });
    expect(appointment!.location_id).not.toBeNull();
  });

  it("dedupes contacts by the company's own criteria (contact_blocks) over the map's", async () => {
    const company = await createTestCompany(app, { prefix: 'blocks', loadMap: MAP });
    await app.sql`
      insert into contact_blocks (company_id, purpose, name, criteria)
      values (${company.id}, 'dedupe', 'same email', ${app.sql.json({ fields: ['email'] })})`;
    const file = csv(HEADER, [
      ['1', 'Ann', 'Lee', '3125550101', '', 'ann@example.com', `03/15/${year} 2:30 PM`, '', '', '', ''],
      ['2', 'Ann', 'Lee-Smith', '3125550101', '', 'ANN@example.com', `03/16/${year} 2:30 PM`, '', '', '', ''],
    ]);
    const { summary } = await ingestFile(app, worker.taskQueue, company, 'blocks.csv', file);
    expect(summary).toMatchObject({ stage: 'done', rowsLoaded: 2, rowsDuplicate: 0 });
    const contacts = await app.sql<{ last_name: string; dedupe_key: string }[]>`
      select last_name, dedupe_key from contacts where company_id = ${company.id}`;
    expect(contacts).toEqual([{ last_name: 'Lee-Smith', dedupe_key: 'ann@example.com' }]);
    const [appointments] = await app.sql<
      { n: number }[]
    >`select count(*)::int as n from appointments where company_id = ${company.id}`;
    expect(appointments!.n).toBe(2);
  });

  it("drops the file's other columns when the map says keepUnmapped: false", async () => {
    const company = await createTestCompany(app, {
      prefix: 'keep',
      loadMap: { ...MAP, name: 'lean', keepUnmapped: false },
    });
    const file = csv(HEADER, [
      ['1', 'Ann', 'Lee', '3125550101', '', '', `03/15/${year} 2:30 PM`, '', '', '', '44'],
    ]);
    await ingestFile(app, worker.taskQueue, company, 'lean.csv', file);
    const rows = await loaded(company);
    expect(rows.get('1')!.data).not.toHaveProperty('Shoe Size');
  });
});
