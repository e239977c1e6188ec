import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { compileLoadMap } from '../../lib/load-maps/compile';
import { bindMapper } from '../../lib/ingest/row-mapper';
import { loadMapProblems } from '../../lib/load-maps/files';
import { CONFIDENCE_THRESHOLD, suggestLoadMap } from '../../lib/load-maps/suggest';
import { describeContent } from '../../lib/load-maps/suggest/column-content';
import { headerWords } from '../../lib/load-maps/suggest/header-words';
import { describeMeasures } from '../../lib/load-maps/suggest/measure';
import { readSample, suggestForFile } from '../../lib/load-maps/suggest/sample';
import { contentVerdict } from '../../lib/load-maps/suggest/score';
import { EXPECTED_FILE, measureSuggest } from '../../scripts/measure-suggest';

describe('header words', () => {
  it.each([
    ['Pt First', ['patient', 'first']],
    ['Mobile #', ['mobile', 'number']],
    ['Appt DT', ['appointment', 'date']],
    ['Zip Code', ['zip']],
    ['Guardian1_Cell', ['guardian', 'mobile']],
    ['CUST_NM_FIRST', ['customer', 'name', 'first']],
    ['PatientFirstName', ['patient', 'first', 'name']],
    ['APPTDATE', ['appointment', 'date']],
    ['Correo electrónico', ['email']],
    ['Fecha de cita', ['date', 'appointment']],
    ['E-mail', ['email']],
  ])('%j reads as %j', (header, words) => expect(headerWords(header)).toEqual(words));
});

describe('column content', () => {
  it("tells a file's day-first dates by the values only that spelling reads, and reads every date that way", () => {
    const c = describeContent(['05/04/2027', '23/03/2027', '24/03/2027']);
    expect(c.formats).toEqual(['DD/MM/YYYY']);
    expect(c.shares.date).toBe(1);
  });

  it('takes dates years apart as birth dates, not appointments', () => {
    const births = describeContent(['04/12/1986', '11/02/1954', '07/30/2011']);
    expect(contentVerdict('appointment_date', births).says).toBe('no');
    const visits = describeContent(['03/15/2027', '3/16/27', '2027-03-17']);
    expect(contentVerdict('appointment_date', visits).says).toBe('yes');
    expect(visits.formats).toEqual(['MM/DD/YYYY', 'M/D/YY', 'ISO']);
  });

  it('reads phones, ZIPs, states and date-times with the cleaning rules', () => {
    expect(describeContent(['(617) 555-0142', 6305550142, '617.555.0187']).shares.phone).toBe(1);
    expect(describeContent(['02110', 2110, '02134-1234']).shares.zip).toBe(1);
    expect(describeContent(['MA', 'ma', 'Massachusetts']).shares.state).toBe(1);
    const windows = describeContent(['01/12/2027 08:00', '01/12/2027 8:00 AM']);
    expect(windows.shares.dateTime).toBe(1);
    expect(windows.formats).toEqual(['MM/DD/YYYY', 'HH:mm', 'h:mm A']);
  });
});

describe('suggestLoadMap', () => {
  it('keeps a column below the threshold as an extra, offering what it might be', () => {
    const s = suggestLoadMap({
      name: 'x',
      headers: ['First Name', 'Last Name', 'Cell', 'Zip'],
      rows: [{ 'First Name': 'Ann', 'Last Name': 'Lee', Cell: '6175550101', Zip: 'n/a' }],
      format: { kind: 'csv' },
    });
    const zip = s.columns.find((c) => c.column === 'Zip')!;
    expect(zip.field).toBeNull();
    expect(zip.alternatives[0]).toMatchObject({ field: 'zip' });
    expect(zip.alternatives[0]!.confidence).toBeLessThan(CONFIDENCE_THRESHOLD);
    expect(s.missing).toEqual(['appointment_date']);
  });
});

describe('suggest on the sample exports and the fixtures', () => {
  it('gets at least 95% of the columns right and no wrong match above the confidence threshold', async () => {
    const measures = await measureSuggest();
    const lines = describeMeasures(measures, CONFIDENCE_THRESHOLD);
    console.log(lines.join('\n'));
    const columns = measures.reduce((n, m) => n + m.columns, 0);
    const right = measures.reduce((n, m) => n + m.right, 0);
    expect(measures.length).toBeGreaterThanOrEqual(11);
    expect(right / columns).toBeGreaterThanOrEqual(0.95);
    expect(measures.flatMap((m) => m.wrong.filter((w) => w.suggested !== null))).toEqual([]);
  });

  it('proposes maps that pass loadmap validate and read their own files without a reject', async () => {
    const expected = JSON.parse(await readFile(EXPECTED_FILE, 'utf8')) as Record<string, unknown>;
    for (const file of Object.keys(expected).filter((f) => f.startsWith('test/fixtures/'))) {
      const { suggestion, sample } = await suggestForFile(() => createReadStream(file), {
        filename: file,
        name: 'fixture',
      });
      if (suggestion.missing.length) continue; // a file without first and last names cannot make a map
      const { problems } = loadMapProblems(JSON.stringify(suggestion.map));
      expect({ file, problems }).toEqual({ file, problems: [] });
      const reread = await readSample(() => createReadStream(file), {
        filename: file,
        sheet: suggestion.map.format?.sheet,
      });
      const mapRow = bindMapper(compileLoadMap(suggestion.map, file), sample.headers, {
        companyTimezone: 'America/New_York',
        locationTimezone: () => undefined,
      });
      const rejects = reread.rows
        .map((values, i) => mapRow({ rowNumber: i + 2, values }))
        .filter((r) => !r.ok);
      expect({ file, rejects }).toEqual({ file, rejects: [] });
    }
  });
});
