// Every kind of bad input we know of, in one table: each gives a clear error and leaves nothing half-written.
// Add a case by adding a row: a file (and map) for the default runner, or a `run` of your own.
import { deflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { BOMB_FILES } from './support/bomb-files';
import type { TestWorker } from './support/harness';
import {
  addLoadMap,
  createTestCompany,
  csv,
  daysFromNow,
  EHR_HEADER,
  EHR_MAP,
  ingestFile,
  type TestCompany,
} from './support/ingest';
import { useIngestEnv } from './support/ingest-env';
import { SOURCE_BAD_INPUTS } from './support/source-bad-inputs';
import { zip } from './support/zip';

interface Env {
  app: App;
  company: TestCompany;
  taskQueue: string;
}

interface Outcome {
  /** the reason a person reads: the packet's error, or the failure of whatever ran */
  error: string | null;
  /** the failure's type (ApplicationFailure type), when there was one */
  type?: string;
  /** the packet, when one was made, whose rows must not have reached contacts, appointments or messages */
  packetId?: number;
  /** whether any activity of its ingest ran more than once (a problem with the input never is retried) */
  retried?: boolean;
}

interface BadInput {
  name: string;
  /** the file the default runner puts in S3 (a good one-row EHR file when left out) */
  file?: string | Buffer | (() => Promise<Buffer>);
  fileName?: string;
  /** the load map the packet is read with, instead of the EHR map */
  map?: unknown;
  /** changes before the default runner: another company, no load map, no upload */
  prepare?: (env: Env) => Promise<{ company?: TestCompany; loadMapId?: number | null; upload?: boolean }>;
  /** a runner of its own, for inputs that are not a file in S3 (e.g. a source that cannot be reached) */
  run?: (env: Env) => Promise<Outcome>;
  /** the packet fails with a reason matching this */
  fails?: RegExp;
  type?: string;
  /** or: the packet completes, these rows rejected with these reasons, nothing loaded */
  rejects?: { row: number; column: string | null; reason: RegExp }[];
}

const day = daysFromNow(7);
const good = [
  'P1',
  'Ann',
  'Lee',
  '6175550101',
  '',
  'ann@example.com',
  day,
  '10:00',
  'A1',
  '',
  'Dr. Lee',
  'Main',
  '02110',
  'MA',
  '',
];
const row = (changes: Record<string, string>) => EHR_HEADER.map((h, i) => changes[h] ?? good[i]!);
const file = (...rows: string[][]) => csv(EHR_HEADER, rows);
const goodFile = file(good);
const withoutColumn = (name: string) =>
  csv(
    EHR_HEADER.filter((h) => h !== name),
    [good.filter((_, i) => EHR_HEADER[i] !== name)],
  );

async function workbook(build: (book: ExcelJS.Workbook) => void): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  build(book);
  return Buffer.from(await book.xlsx.writeBuffer());
}
const sheetWith =
  (rows: unknown[][], name = 'Sheet1') =>
  () =>
    workbook((book) => {
      const sheet = book.addWorksheet(name);
      sheet.addRow(EHR_HEADER);
      for (const r of rows) sheet.addRow(r);
    });

const CASES: BadInput[] = [
  // the file itself
  { name: 'an empty file', file: '', fails: /the file is empty/, type: 'BadFile' },
  { name: 'a file of blank lines', file: '\r\n\r\n  \r\n', fails: /the file is empty/, type: 'BadFile' },
  {
    name: 'a header and no rows',
    file: EHR_HEADER.join(',') + '\r\n',
    fails: /header row but no data rows/,
    type: 'NoRows',
  },
  {
    name: 'a file without its header row',
    file: good.join(',') + '\r\n' + good.join(',') + '\r\n',
    fails: /lacks required columns: .*The file's columns are: "P1", "Ann", "Lee"/,
    type: 'MissingColumns',
  },
  {
    name: 'duplicate headers',
    file: 'Patient ID,First Name,Last Name,Email,Email\r\nP1,Ann,Lee,a@b.co,c@d.co\r\n',
    fails: /the header repeats "Email"/,
    type: 'BadFile',
  },
  {
    name: 'two headers the map cannot tell apart',
    file:
      'Patient ID,First Name,Last Name,Email,E-mail,Appt Date\r\nP1,Ann,Lee,a@b.co,c@d.co,' + day + '\r\n',
    fails: /email: columns "Email" and "E-mail" both match/,
    type: 'BadFile',
  },
  {
    name: 'a missing required column',
    file: withoutColumn('Last Name'),
    fails:
      /lacks required columns: last_name \("Last Name"\)\. The file's columns are: "Patient ID", "First Name"/,
    type: 'MissingColumns',
  },
  {
    name: 'no phone and no email column',
    file: csv(['Patient ID', 'First Name', 'Last Name', 'Appt Date'], [['P1', 'Ann', 'Lee', day]]),
    fails: /lacks required columns: phone or email/,
    type: 'MissingColumns',
  },
  {
    name: 'another export altogether',
    file: 'sku,price,qty\r\nA-1,9.99,3\r\n',
    fails: /lacks required columns: external_id .*first_name .*The file's columns are: "sku", "price", "qty"/,
    type: 'MissingColumns',
  },
  {
    name: 'a quote never closed',
    file: EHR_HEADER.join(',') + '\r\nP1,"Ann,Lee,6175550101\r\n',
    fails: /a quoted value is never closed/,
    type: 'BadFile',
  },
  {
    name: 'text after a closing quote',
    file: EHR_HEADER.join(',') + '\r\nP1,"Ann"x,Lee,6175550101\r\n',
    fails: /row 2: a quoted value is followed by other characters/,
    type: 'BadFile',
  },
  {
    name: 'more values than columns',
    file: file(good) + good.join(',') + ',extra,values\r\n',
    fails: /row 3 has 17 values but the header has 15 columns/,
    type: 'BadFile',
  },
  {
    name: 'a 10 MB field',
    file: () => Promise.resolve(Buffer.from(file(row({ Notes: 'x'.repeat(10 * 1024 * 1024) })))),
    fails: /row 2, column "Notes": the value is longer than 1048576 characters/,
    type: 'BadFile',
  },
  // the input bombs: refused while they stream
  ...BOMB_FILES.map((bomb) => ({
    name: bomb.name,
    fileName: bomb.fileName,
    file: () => Promise.resolve(bomb.body()),
    fails: bomb.fails,
    type: 'BadFile',
  })),
  {
    name: 'a NUL byte in a value',
    file: file(row({ 'First Name': 'An\u0000n' })),
    rejects: [{ row: 2, column: 'First Name', reason: /contains a NUL character \(byte 0\)/ }],
  },
  {
    name: 'a NUL byte in a column kept unmapped',
    file: file(row({ Notes: 'call\u0000back' })),
    rejects: [{ row: 2, column: 'Notes', reason: /contains a NUL character \(byte 0\)/ }],
  },
  {
    name: 'half of a surrogate pair in UTF-16 text',
    fileName: 'utf16.csv',
    file: Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(file(row({ 'Last Name': 'Le\ud800e' })), 'utf16le'),
    ]),
    rejects: [{ row: 2, column: 'Last Name', reason: /half of a UTF-16 surrogate pair/ }],
  },
  {
    name: 'half of a surrogate pair escaped in JSON',
    fileName: 'feed.ndjson',
    file: `{"Patient ID": "P1", "First Name": "Ann", "Last Name": "L\\ud800e", "Cell Phone": "6175550101", "Appt Date": "${day}"}\n`,
    rejects: [{ row: 1, column: 'Last Name', reason: /half of a UTF-16 surrogate pair/ }],
  },
  {
    name: 'UTF-8 text then a stray Windows-1252 byte',
    file: Buffer.concat([
      Buffer.from(file(row({ 'First Name': 'José' }))),
      iconv.encode(file(row({ 'First Name': 'Zoë' })).split('\r\n')[1]!, 'win1252'),
    ]),
    fails: /not valid UTF-8 .*mixes encodings/,
    type: 'BadFile',
  },
  {
    name: 'a declared encoding that does not exist',
    file: goodFile,
    map: { ...EHR_MAP, name: 'ebcdic', format: { kind: 'csv', encoding: 'utf-7' } },
    fails: /load map ebcdic v1 is invalid: format\.encoding/,
    type: 'InvalidLoadMap',
  },
  {
    name: 'a gzip file',
    file: Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]),
    fails: /gzip-compressed; send it uncompressed/,
    type: 'BadFile',
  },
  {
    name: 'a PDF',
    file: Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n'),
    fails: /a PDF; send the data as CSV or \.xlsx/,
    type: 'BadFile',
  },
  {
    name: 'a legacy .xls workbook',
    file: Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]),
    fails: /legacy \.xls/,
    type: 'BadFile',
  },
  {
    name: 'a corrupt .xlsx',
    fileName: 'roster.xlsx',
    file: Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(200, 7)]),
    fails: /not a readable \.xlsx workbook/,
    type: 'BadFile',
  },
  {
    name: 'a zip that is not a workbook',
    fileName: 'roster.xlsx',
    file: zip([{ name: 'readme.txt', data: Buffer.from('hello'), deflated: false }]),
    fails: /the file is a zip archive but not an/,
    type: 'BadFile',
  },
  {
    name: 'an .xlsx zip bomb (declared sizes)',
    fileName: 'bomb.xlsx',
    file: zip([
      { name: 'xl/workbook.xml', data: deflateRawSync(Buffer.from('<workbook/>')), realSize: 11 },
      {
        name: 'xl/worksheets/sheet1.xml',
        data: deflateRawSync(Buffer.alloc(4096)),
        declaredSize: 0xc0000000,
      },
    ]),
    fails: /unpacks to \d+ MB, over the \d+ MB limit; it may be a zip bomb/,
    type: 'BadFile',
  },
  {
    name: 'an .xlsx zip bomb that lies about its size',
    fileName: 'liar.xlsx',
    file: zip([
      { name: 'xl/workbook.xml', data: deflateRawSync(Buffer.from('<workbook/>')), realSize: 11 },
      {
        name: 'xl/worksheets/sheet1.xml',
        data: deflateRawSync(Buffer.alloc(8 * 1024 * 1024), { level: 9 }),
        declaredSize: 4096,
      },
    ]),
    fails: /unpacks to more than the 4096 bytes it declares; the file may be a zip bomb/,
    type: 'BadFile',
  },
  {
    name: 'an .xlsx without the sheet the map names',
    fileName: 'book.xlsx',
    file: sheetWith([good], 'Patients'),
    map: { ...EHR_MAP, name: 'ehr-sheet', format: { kind: 'xlsx', sheet: 'Appointments' } },
    fails: /Appointments/,
    type: 'BadFile',
  },
  {
    name: 'an .xlsx whose first sheet is a cover page, read because the map names no sheet',
    fileName: 'export.xlsx',
    file: () =>
      workbook((book) => {
        book.addWorksheet('Read Me').addRow(['Appointment export', 'generated nightly']);
        const data = book.addWorksheet('Appointments');
        data.addRow(EHR_HEADER);
        data.addRow(good);
        book.addWorksheet('Notes').addRow(['nothing']);
      }),
    fails:
      /lacks required columns: .*sheet "Read Me" was read \(the workbook's first sheet; the load map names none\); the workbook's other sheets: "Appointments", "Notes"\. To read another, set "format"/,
    type: 'MissingColumns',
  },
  {
    name: 'an .xlsx whose formulas have no cached value',
    fileName: 'formulas.xlsx',
    file: sheetWith([
      row({ 'Last Name': '' }).map((v, i) => (EHR_HEADER[i] === 'Last Name' ? { formula: 'UPPER(B2)' } : v)),
    ]),
    rejects: [{ row: 2, column: 'Last Name', reason: /last name is required but blank/ }],
  },
  // an error result (#DIV/0!) reads as a blank cell, so the row has no way to reach the person
  {
    name: 'an .xlsx formula that evaluates to an error',
    fileName: 'errors.xlsx',
    file: sheetWith([
      row({ Email: '' }).map((v, i) =>
        EHR_HEADER[i] === 'Cell Phone' ? { formula: '1/0', result: { error: '#DIV/0!' } } : v,
      ),
    ]),
    rejects: [
      {
        row: 2,
        column: 'Cell Phone',
        reason: /a phone number or an email address is required; both are blank/,
      },
    ],
  },
  {
    name: 'a JSON array cut short',
    fileName: 'feed.json',
    file: '[{"Patient ID": "P1", "First Name": "Ann"',
    fails: /JSON|ends|truncated|cut/i,
    type: 'BadFile',
  },
  {
    name: 'NDJSON with a line that is not an object',
    fileName: 'feed.ndjson',
    file:
      '{"Patient ID": "P1", "First Name": "Ann", "Last Name": "Lee", "Email": "a@b.co", "Appt Date": "' +
      day +
      '"}\n[1, 2]\n',
    fails: /line 2 is an array, not an object/,
    type: 'BadFile',
  },
  // the load map, the company and the object
  {
    name: 'a load map with an unknown rule',
    map: {
      ...EHR_MAP,
      name: 'typo',
      fields: { ...EHR_MAP.fields, phone: { column: 'Cell Phone', rules: [{ rule: 'phon' }] } },
    },
    fails: /load map typo v1 is invalid: fields\.phone: unknown rule "phon"/,
    type: 'InvalidLoadMap',
  },
  {
    name: 'a load map with a bad rule option',
    map: {
      ...EHR_MAP,
      name: 'badopt',
      fields: { ...EHR_MAP.fields, zip: { column: 'Zip', rules: [{ rule: 'zip', plus4: 'sometimes' }] } },
    },
    fails: /fields\.zip: rule zip: plus4/,
    type: 'InvalidLoadMap',
  },
  {
    name: 'a load map without last name',
    map: { ...EHR_MAP, name: 'nolast', fields: { ...EHR_MAP.fields, last_name: undefined } },
    fails: /fields\.last_name: is required/,
    type: 'InvalidLoadMap',
  },
  {
    name: 'a load map with an unknown time zone',
    map: { ...EHR_MAP, name: 'mars', timezone: 'Mars/Olympus' },
    fails: /timezone: must be an IANA time zone/,
    type: 'InvalidLoadMap',
  },
  {
    name: 'a load map deduping on a field it does not fill',
    map: { ...EHR_MAP, name: 'dedupe', dedupe: { contact: ['email'], appointment: ['provider_id'] } },
    fails: /dedupe\.appointment: uses provider_id, which the map does not fill/,
    type: 'InvalidLoadMap',
  },
  {
    name: 'no load map named and several to choose from',
    prepare: async ({ app, company }) => {
      await addLoadMap(app, company.id, { ...EHR_MAP, name: 'second' });
      return { loadMapId: null };
    },
    fails: /has no load map for this packet .*active maps: .*ehr.*second/,
    type: 'NoLoadMap',
  },
  {
    name: 'an inactive company',
    prepare: async ({ app }) => {
      const c = await createTestCompany(app, { prefix: 'off' });
      await app.sql`update companies set active = false where id = ${c.id}`;
      return { company: c };
    },
    fails: /company off-\w+ is inactive/,
    type: 'InactiveCompany',
  },
  {
    name: 'company settings with a broken reminder plan',
    prepare: async ({ app }) => ({
      company: await createTestCompany(app, {
        prefix: 'plan',
        settings: { reminderPlan: [{ step: 'x', channel: 'fax', offset: { days: -1 } }] },
      }),
    }),
    fails: /has invalid settings: reminderPlan\.0\.channel/,
    type: 'InvalidCompanySettings',
  },
  {
    name: 'a packet whose file is not in S3',
    prepare: async () => ({ upload: false }),
    fails: /the packet's file s3:\/\/.*\/raw\/.* does not exist; upload the file again/,
    type: 'MissingObject',
  },
  // rows: rejected one by one, with row, column and reason
  {
    name: 'a phone number that is not one',
    file: file(row({ 'Cell Phone': '555-12', Email: '' })),
    rejects: [
      { row: 2, column: 'Cell Phone', reason: /"555-12" is not a valid phone number for country US/ },
    ],
  },
  {
    name: 'a date that does not exist',
    file: file(row({ 'Appt Date': '02/30/2027' })),
    rejects: [{ row: 2, column: 'Appt Date', reason: /not a real date: February 2027 has 28 days/ }],
  },
  {
    name: 'a time that does not exist',
    file: file(row({ 'Appt Time': '25:00' })),
    rejects: [{ row: 2, column: 'Appt Time', reason: /"25:00" is not a real time of day/ }],
  },
  {
    name: 'a ZIP code that is not one',
    file: file(row({ Zip: 'ABCDE' })),
    rejects: [{ row: 2, column: 'Zip', reason: /"ABCDE" is not a ZIP code/ }],
  },
  {
    name: 'a state that is not one',
    file: file(row({ State: 'Narnia' })),
    rejects: [{ row: 2, column: 'State', reason: /"Narnia" is not a US state/ }],
  },
  {
    name: 'a name without letters',
    file: file(row({ 'First Name': '12345' })),
    rejects: [{ row: 2, column: 'First Name', reason: /"12345" is not a name: it has no letters/ }],
  },
  {
    name: 'neither phone nor email',
    file: file(row({ 'Cell Phone': '', Email: '' })),
    rejects: [
      {
        row: 2,
        column: 'Cell Phone',
        reason: /a phone number or an email address is required; both are blank/,
      },
    ],
  },
  {
    name: 'a blank appointment date',
    file: file(row({ 'Appt Date': '', 'Appt Time': '' })),
    rejects: [{ row: 2, column: 'Appt Date', reason: /appointment date is required but blank/ }],
  },
  // the sources: SFTP, HTTPS API, S3, source definitions and uploads (each runs a real discovery or the CLI)
  ...SOURCE_BAD_INPUTS,
];

let app: App;
let worker: TestWorker;
let company: TestCompany;

useIngestEnv('bad', (env) => ({ app, worker, company } = env));

/** Puts the case's file in S3 as a packet of the case's company and map, and ingests it. */
async function runDefault(c: BadInput, env: Env, index: number): Promise<Outcome> {
  const setup = (await c.prepare?.(env)) ?? {};
  const target = setup.company ?? env.company;
  const loadMapId =
    'loadMapId' in setup
      ? setup.loadMapId
      : c.map
        ? await addLoadMap(env.app, target.id, c.map)
        : target.loadMapId;
  const bytes = typeof c.file === 'function' ? await c.file() : (c.file ?? goodFile);
  // a case number in the name keeps identical bytes of different cases apart
  const { packet, summary, failure, workflowId } = await ingestFile(
    env.app,
    env.taskQueue,
    target,
    c.fileName ?? `case-${index}.csv`,
    bytes,
    {
      loadMapId,
      upload: setup.upload,
      dedupeKey: `bad-input:${index}:${Date.now()}`,
    },
  );
  const cause = failure?.cause as { type?: string } | undefined;
  const history = await (await env.app.client()).workflow.getHandle(workflowId).fetchHistory();
  const retried = (history.events ?? []).some(
    (e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1,
  );
  return { error: summary.error, type: cause?.type, packetId: packet.id, retried };
}

describe('bad input', () => {
  it('has at least 30 cases', () => expect(CASES.length).toBeGreaterThanOrEqual(30));

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, index) => {
    const env: Env = { app, company, taskQueue: worker.taskQueue };
    const outcome = await (c.run ? c.run(env) : runDefault(c, env, index));
    if (c.fails) {
      expect(outcome.error).toMatch(c.fails);
      if (c.type) expect(outcome.type).toBe(c.type);
      if (outcome.retried !== undefined) expect(outcome.retried).toBe(false);
    } else {
      expect(outcome.error).toBeNull();
    }
    if (outcome.packetId === undefined) return;
    const [left] = await app.sql<
      { contacts: number; appointments: number; messages: number; staging: number; stage: string }[]
    >`
      select (select count(*)::int from contacts where first_packet_id = ${outcome.packetId} or last_packet_id = ${outcome.packetId}) as contacts,
             (select count(*)::int from appointments where first_packet_id = ${outcome.packetId} or last_packet_id = ${outcome.packetId}) as appointments,
             (select count(*)::int from messages where packet_id = ${outcome.packetId}) as messages,
             (select count(*)::int from packet_rows where packet_id = ${outcome.packetId}) as staging,
             (select stage from data_packets where id = ${outcome.packetId}) as stage`;
    expect(left).toEqual({
      contacts: 0,
      appointments: 0,
      messages: 0,
      staging: 0,
      stage: c.fails ? 'failed' : 'done',
    });
    if (c.rejects) {
      const rejects = await app.sql<{ row_number: number; column_name: string | null; reason: string }[]>`
        select row_number, column_name, reason from packet_rejects where packet_id = ${outcome.packetId} order by row_number, id`;
      expect(rejects).toHaveLength(c.rejects.length);
      c.rejects.forEach((want, i) => {
        expect(rejects[i]).toMatchObject({ row_number: want.row, column_name: want.column });
        expect(rejects[i]!.reason).toMatch(want.reason);
      });
    }
  });
});
