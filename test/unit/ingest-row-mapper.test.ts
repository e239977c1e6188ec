import { describe, expect, it } from 'vitest';
import { normalizeAppointmentStatus } from '../../lib/ingest/appointment-time';
import { compileLoadMap } from '../../lib/load-maps/compile';
import { copyRow, copyValue } from '../../lib/ingest/copy';
import { IngestProblem } from '../../lib/ingest/errors';
import { bindMapper, type MappedRow } from '../../lib/ingest/row-mapper';
import type { CellValue } from '../../lib/parse';
import { emptyValues } from '../../lib/parse/types';

const MAP = {
  name: 'unit',
  fields: {
    external_id: { column: 'ID' },
    first_name: { column: 'First', rules: [{ rule: 'name' }] },
    last_name: { column: 'Last', rules: [{ rule: 'name', part: 'family' }] },
    phone: { column: ['Cell', 'Home'] },
    email: { column: 'Email', rules: [{ rule: 'email', onInvalid: 'blank' }] },
    appointment_date: { column: 'Date', rules: [{ rule: 'date' }] },
    appointment_time: { column: 'Time' },
    appointment_status: { column: 'Status' },
    location: { column: 'Office' },
    language: { default: 'es' },
  },
  dedupe: { contact: ['first_name', 'last_name', 'phone'] },
};
const HEADERS = ['ID', 'First', 'Last', 'Cell', 'Home', 'Email', 'Date', 'Time', 'Status', 'Office', 'Note'];
const context = {
  companyTimezone: 'America/New_York',
  locationTimezone: (location: string | null) => (location === 'Denver' ? 'America/Denver' : undefined),
};

function map(values: Record<string, CellValue>, rowNumber = 2, loadMap: unknown = MAP): MappedRow {
  const mapper = bindMapper(compileLoadMap(loadMap, 'unit'), HEADERS, context);
  const row = Object.assign(emptyValues(), Object.fromEntries(HEADERS.map((h) => [h, null])), values);
  return mapper({ rowNumber, values: row });
}

describe('the row mapper', () => {
  it('takes the first non-blank column of the alternatives, fills defaults and keeps other columns', () => {
    const mapped = map({
      ID: 'X1',
      First: 'ANN',
      Last: 'DE LA CRUZ',
      Cell: ' ',
      Home: '617-555-0101',
      Date: '2027-03-15',
      Time: '2:30 PM',
      Note: 'gate code 12',
    });
    expect(mapped.ok && mapped.row).toMatchObject({
      firstName: 'Ann',
      lastName: 'de la Cruz',
      phone: '+16175550101',
      phoneTimezone: 'America/New_York',
      language: 'es',
      startsAt: '2027-03-15T18:30:00.000Z',
      appointmentTimezone: 'America/New_York',
      appointmentStatus: 'scheduled',
      data: { Note: 'gate code 12' },
      contactKey: 'ann\u001fde la cruz\u001f+16175550101',
    });
  });

  it("reads the time in the row's location zone", () => {
    const mapped = map({
      First: 'Ann',
      Last: 'Lee',
      Cell: '6175550101',
      Date: '2027-03-15',
      Time: '14:30',
      Office: 'Denver',
    });
    expect(mapped.ok && mapped.row.startsAt).toBe('2027-03-15T20:30:00.000Z');
  });

  it('rejects every bad value of a row, each with its column and raw value', () => {
    const mapped = map({ First: '123', Last: '', Cell: '555', Date: '2027-02-30', Time: '10:00' }, 7);
    expect(mapped).toEqual({
      ok: false,
      rejects: [
        { rowNumber: 7, column: 'First', rawValue: '123', reason: '"123" is not a name: it has no letters' },
        {
          rowNumber: 7,
          column: 'Cell',
          rawValue: '555',
          reason: '"555" is not a valid phone number for country US',
        },
        {
          rowNumber: 7,
          column: 'Date',
          rawValue: '2027-02-30',
          reason: '"2027-02-30" is not a real date: February 2027 has 28 days',
        },
        { rowNumber: 7, column: 'Last', rawValue: null, reason: 'last name is required but blank' },
      ],
    });
  });

  it('blanks an invalid email when the rule says so, and then needs a phone', () => {
    const mapped = map({ First: 'Ann', Last: 'Lee', Email: 'not-an-email', Date: '2027-03-15' });
    expect(mapped).toMatchObject({
      ok: false,
      rejects: [{ column: 'Cell', reason: 'a phone number or an email address is required; both are blank' }],
    });
  });

  it('keeps a value a rule was told to keep among the other columns when its column cannot hold it', () => {
    const keeping = {
      ...MAP,
      fields: {
        ...MAP.fields,
        phone: { column: ['Cell', 'Home'], rules: [{ rule: 'phone', onInvalid: 'keep' }] },
      },
    };
    const mapped = map(
      { First: 'Ann', Last: 'Lee', Cell: 'ext 42', Email: 'A@B.CO', Date: '2027-03-15' },
      2,
      keeping,
    );
    expect(mapped.ok && mapped.row).toMatchObject({ phone: null, email: 'a@b.co', data: { Cell: 'ext 42' } });
  });

  it('fails the packet at once for a missing required column, naming what the file has', () => {
    const bind = () => bindMapper(compileLoadMap(MAP, 'unit'), ['ID', 'First', 'Cell'], context);
    expect(bind).toThrow(IngestProblem);
    expect(bind).toThrow(
      'the file lacks required columns: last_name ("Last"). The file\'s columns are: "ID", "First", "Cell"',
    );
  });

  it('refuses a map whose rules do not compile, naming the field', () => {
    const broken = {
      ...MAP,
      fields: { ...MAP.fields, email: { column: 'Email', rules: [{ rule: 'emial' }] } },
    };
    expect(() => compileLoadMap(broken, 'broken v2')).toThrow(
      /^load map broken v2 is invalid: fields\.email: unknown rule "emial"/,
    );
  });
});

describe('appointment statuses', () => {
  it.each([
    ['Cancelled', 'cancelled'],
    ['CANCELED BY PATIENT', 'cancelled'],
    ['cx', 'cancelled'],
    ['Confirmed via SMS', 'confirmed'],
    ['Reschedule', 'reschedule_requested'],
    ['Checked out', 'completed'],
    ['Booked', 'scheduled'],
    [null, 'scheduled'],
  ])('%s is %s', (raw, status) => expect(normalizeAppointmentStatus(raw)).toBe(status));
});

describe('COPY text format', () => {
  it('escapes backslashes, tabs and line breaks, and writes null as \\N', () => {
    expect(copyValue('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyRow([1, null, 'x'])).toBe('1\t\\N\tx\n');
  });
});
