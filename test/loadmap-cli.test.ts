import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runHerald } from './support/cli';

let dir: string;
const EXAMPLES = [
  'loadmaps/demo-clinic-ehr.json',
  'loadmaps/demo-school-conferences.json',
  'loadmaps/demo-utility-service-notices.json',
];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'herald-loadmap-'));
});

async function mapFile(name: string, content: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

const base = {
  name: 'clinic',
  fields: {
    first_name: { column: 'First' },
    last_name: { column: 'Last' },
    phone: { column: 'Phone', rules: [{ rule: 'phone' }] },
  },
  dedupe: { contact: ['first_name', 'last_name', 'phone'] },
};

describe('herald loadmap validate', () => {
  it.each(EXAMPLES)('accepts the example map %s', async (file) => {
    const run = await runHerald(['loadmap', 'validate', file]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${file}: valid: load map [a-z-]+ of demo-[a-z]+, \\d+ fields`));
  });

  it.each([
    ['not JSON', '{ "name": "x", ', ['not valid JSON']],
    [
      'missing required fields, with their paths',
      { name: 'Bad Name', fields: { first_name: { column: 'First' } } },
      [
        'name: lower-case letters, digits, - and _',
        'fields.last_name: is required',
        'fields: must map phone or email (or both)',
        'dedupe.contact: uses last_name, which the map does not fill',
      ],
    ],
    [
      'a field with neither column nor default',
      { ...base, fields: { ...base.fields, email: { required: true } } },
      ['fields.email: needs a column or a default'],
    ],
    [
      'an unknown cleaning rule',
      { ...base, fields: { ...base.fields, phone: { column: 'Phone', rules: [{ rule: 'phonee' }] } } },
      ['fields.phone: unknown rule "phonee"; known rules: text, name, phone'],
    ],
    [
      "a rule's wrong option",
      {
        ...base,
        fields: {
          ...base.fields,
          phone: { column: 'Phone', rules: [{ rule: 'phone', defaultCountry: 'USA' }] },
        },
      },
      ['fields.phone: rule phone: defaultCountry:'],
    ],
    [
      'an unknown option',
      {
        ...base,
        fields: {
          ...base.fields,
          first_name: { column: 'First', rules: [{ rule: 'name', casing: 'upper' }] },
        },
      },
      ['fields.first_name: rule name:', 'casing'],
    ],
    [
      'a key written twice in one object (JSON would keep the second silently)',
      JSON.stringify(base, null, 2).replace(
        '"first_name": {',
        '"first_name": { "column": "Given" },\n    "first_name": {',
      ),
      ['fields.first_name: written twice in one object (again on line 5); JSON keeps only the last'],
    ],
    [
      'one column read into two fields',
      { ...base, fields: { ...base.fields, last_name: { column: 'first' } } },
      [
        'column "First" is read into first_name and last_name; map each field to its own column, or mark each with "sharedColumn": true',
      ],
    ],
  ])('refuses %s, exit code 1, listing every problem', async (_what, content, expected) => {
    const run = await runHerald(['loadmap', 'validate', await mapFile('bad.json', content), '--json']);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as { valid: boolean; problems: string[] };
    expect(result.valid).toBe(false);
    for (const text of expected) expect(result.problems.join('\n')).toContain(text);
  });

  it('accepts a column read into two fields when each says it shares it on purpose', async () => {
    const shared = {
      ...base,
      fields: {
        ...base.fields,
        first_name: { column: 'Name', sharedColumn: true, rules: [{ rule: 'name', part: 'given' }] },
        last_name: { column: 'Name', sharedColumn: true, rules: [{ rule: 'name', part: 'family' }] },
      },
    };
    const run = await runHerald(['loadmap', 'validate', await mapFile('shared.json', shared)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('valid: load map clinic');
  });

  it('stops with exit code 2 when the file cannot be read', async () => {
    const run = await runHerald(['loadmap', 'validate', 'loadmaps/nope.json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot read loadmaps/nope.json');
  });
});

describe('herald loadmap preview', () => {
  it('shows the first rows of a Windows-1252, semicolon-delimited notice list as the utility map reads them, with rejects and reasons', async () => {
    const run = await runHerald([
      'loadmap',
      'preview',
      'loadmaps/samples/demo-utility-service-notices.csv',
      '--company',
      'demo-utility',
      '--map',
      'service-notices',
      '--rows',
      '8',
      '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      map: string;
      shown: number;
      rejected: number;
      rows: {
        rowNumber: number;
        ok: boolean;
        row?: Record<string, unknown>;
        rejects?: { column: string | null; rawValue: string | null; reason: string }[];
      }[];
    };
    expect(result.map).toBe('service-notices v1');
    expect(result.shown).toBe(8);
    expect(result.rows[0]).toMatchObject({
      rowNumber: 2,
      ok: true,
      row: {
        firstName: 'María José',
        lastName: 'Peña',
        phone: '+15105550190',
        startsAt: '2027-01-12T16:00:00.000Z',
        appointmentTimezone: 'America/Los_Angeles',
      },
    });
    expect(result.rows[2]!.row).toMatchObject({ lastName: 'O\u2019Neil', firstName: 'Siobhán', email: null });
    const rejects = result.rows
      .filter((r) => !r.ok)
      .map((r) => [r.rowNumber, r.rejects![0]!.column, r.rejects![0]!.reason]);
    expect(rejects).toEqual([
      [6, 'Account Number', 'external id is required but blank'],
      [7, 'Phone', '"510-555-01" is not a valid phone number for country US'],
      [
        8,
        'Window Start',
        '"TBD" is not a date in the expected formats (MM/DD/YYYY, YYYY-MM-DD, h:mm A, HH:mm)',
      ],
    ]);
    expect(result.rejected).toBe(3);
  });

  it("reads the school roster's named sheet of an XLSX file (date cells, time cells, numbers for phones)", async () => {
    const run = await runHerald([
      'loadmap',
      'preview',
      'loadmaps/samples/demo-school-conferences.xlsx',
      '--company',
      'demo-school',
      '--map',
      'sis-conferences',
    ]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toContain('read with sis-conferences v1 (demo-school, America/Chicago)');
    expect(lines).toContain(
      'row 2    ok      Linh Nguyen  +16305550142  linh.nguyen@example.com  2027-03-09T21:30:00.000Z (America/Chicago)  Ms. Rebecca Hartley, Maple Grove Elementary, IL, 60540',
    );
    expect(run.stdout).toContain(
      'row 8    REJECT  Guardian1_Cell: "630-555-01" is not a valid phone number for country US',
    );
    expect(run.stdout).toContain('row 9    REJECT  Guardian1_Last: last name is required but blank');
    expect(lines.at(-2)).toBe('9 rows shown, 6 ok, 3 rejected');
  });

  it('previews with a map file not yet recorded, and says which columns are missing', async () => {
    const ehr = JSON.parse(await readFile('loadmaps/demo-clinic-ehr.json', 'utf8')) as {
      fields: Record<string, { column: unknown }>;
    };
    ehr.fields.first_name!.column = 'Given Name';
    const run = await runHerald([
      'loadmap',
      'preview',
      'loadmaps/samples/demo-clinic-ehr-appointments.csv',
      '--company',
      'demo-clinic',
      '--map',
      await mapFile('draft.json', ehr),
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('the file lacks required columns: first_name ("Given Name")');
    expect(run.stdout).toContain('"Patient First Name"');
  });

  it('stops with exit code 2 for a map the company does not have', async () => {
    const run = await runHerald([
      'loadmap',
      'preview',
      'loadmaps/samples/demo-clinic-ehr-appointments.csv',
      '--company',
      'demo-clinic',
      '--map',
      'nope',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('company demo-clinic has no load map "nope" (it has: ehr-appointments');
  });
});
