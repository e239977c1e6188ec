// Packets held for an operator: a header that drifted from the map, text that looks like UTF-8 read as Windows-1252.
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { TASK_QUEUES } from '../lib/names';
import { herald } from './support/cli';
import { openTestApp, startTestWorker, type TestWorker } from './support/harness';
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

let app: App;
let worker: TestWorker;
beforeAll(async () => {
  app = await openTestApp();
  // `packets release` starts the run on the pipeline queue, as in production
  worker = await startTestWorker(app, { taskQueue: TASK_QUEUES.pipeline });
});
afterAll(async () => {
  await worker?.stop();
  await app?.close();
});

const day = daysFromNow(6);
const row = (id: string, first: string, last = 'Lee') =>
  EHR_HEADER.map(
    (h) =>
      ({
        'Patient ID': id,
        'First Name': first,
        'Last Name': last,
        'Cell Phone': `61755502${id.slice(-2)}`,
        'Appt Date': day,
        'Appt Time': '10:00',
        'Appointment ID': `A${id}`,
      })[h] ?? '',
  );
/** The map with the header it was made for, as `loadmap suggest` writes it. */
const WITH_HEADER = { ...EHR_MAP, name: 'ehr', header: EHR_HEADER };

async function sourceOf(company: TestCompany, settings: { onDrift?: string; onGarbledText?: string }) {
  const [source] = await app.sql<{ id: number }[]>`
    insert into data_ingest_sources (company_id, name, kind, load_map_name, on_drift, on_garbled_text)
    values (${company.id}, ${`feed-${Math.random().toString(36).slice(2, 8)}`}, 'upload', 'ehr',
            ${settings.onDrift ?? 'hold'}, ${settings.onGarbledText ?? 'warn'})
    returning id`;
  return source!.id;
}

// by name: one insert of several rows assigns ids in whatever order its plan reads them
const contacts = async (companyId: number) =>
  (
    await app.sql<
      { first_name: string }[]
    >`select first_name from contacts where company_id = ${companyId} order by first_name`
  ).map((c) => c.first_name);

describe('the drift contract', () => {
  it('holds a file whose header differs from the map, with the difference; a new map version and a release load it', async () => {
    const company = await createTestCompany(app, { prefix: 'drift', loadMap: WITH_HEADER });
    const sourceId = await sourceOf(company, { onDrift: 'hold' });
    const renamed = EHR_HEADER.map((h) => (h === 'Cell Phone' ? 'Mobile #' : h));
    const held = await ingestFile(
      app,
      worker.taskQueue,
      company,
      'drifted.csv',
      csv([...renamed, 'Pager'], [[...row('P01', 'Ann'), '']]),
      {
        sourceId,
        loadMapId: null,
      },
    );
    expect(held.failure).toBeUndefined();
    expect(held.summary.stage).toBe('held');
    expect(held.summary.error).toContain(
      'the file\'s header differs from load map ehr v1: new columns "Mobile #", "Pager"; missing columns "Cell Phone" (phone)',
    );
    expect(held.summary.error).toContain(`herald packets release ${held.packet.uuid}`);
    expect(await contacts(company.id)).toEqual([]);

    // the operator has the held file's shape suggested as the map's next version, records it, releases the packet
    const mapFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'herald-drift-')), 'ehr.json');
    const suggested = await herald(['loadmap', 'suggest', '--packet', held.packet.uuid, '--out', mapFile]);
    expect(suggested.code).toBe(0);
    expect(suggested.stdout).toMatch(/Mobile # +phone/);
    const map = JSON.parse(await readFile(mapFile, 'utf8')) as {
      name: string;
      fields: { phone: { column: string[] } };
    };
    expect(map.name).toBe('ehr');
    expect(map.fields.phone.column).toEqual(['Mobile #', 'Home Phone']);
    expect((await herald(['loadmap', 'add', mapFile])).stdout).toContain('load map ehr of');
    const released = await herald(['packets', 'release', held.packet.uuid, '--json']);
    expect(released.stderr).toBe('');
    expect(JSON.parse(released.stdout)).toMatchObject({
      stage: 'done',
      loadMap: 'ehr v2',
      rowsLoaded: 1,
      released: true,
    });
    expect(await contacts(company.id)).toEqual(['Ann']);
    const again = await herald(['packets', 'release', held.packet.uuid]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('is done, not held');
  });

  it('lets the extras evolve when the source says so, and still holds a file without a required column', async () => {
    const company = await createTestCompany(app, { prefix: 'evolve', loadMap: WITH_HEADER });
    const sourceId = await sourceOf(company, { onDrift: 'evolve' });
    const grown = await ingestFile(
      app,
      worker.taskQueue,
      company,
      'grown.csv',
      csv([...EHR_HEADER, 'Insurance'], [[...row('P02', 'Bo'), 'Aetna']]),
      {
        sourceId,
        loadMapId: null,
      },
    );
    expect(grown.summary.stage).toBe('done');
    const [appointment] = await app.sql`select data from appointments where company_id = ${company.id}`;
    expect(appointment!.data).toMatchObject({ Insurance: 'Aetna' });
    const [warned] = await app.sql`
      select details ->> 'warning' as warning from packet_events where packet_id = ${grown.packet.id} and event = 'warning'`;
    expect(warned!.warning).toContain(
      'new columns "Insurance"; loaded with the columns it has, the new ones kept as extras',
    );

    const noLast = csv(
      EHR_HEADER.filter((h) => h !== 'Last Name'),
      [row('P03', 'Cy').filter((_, i) => EHR_HEADER[i] !== 'Last Name')],
    );
    const blocked = await ingestFile(app, worker.taskQueue, company, 'no-last.csv', noLast, {
      sourceId,
      loadMapId: null,
    });
    expect(blocked.summary.stage).toBe('held');
    expect(blocked.summary.error).toContain('missing columns "Last Name" (last_name)');
  });
});

describe('text that is UTF-8 read as Windows-1252', () => {
  // a UTF-8 file read through a map that says windows-1252: every accented name comes out garbled
  const utf8File = () =>
    Buffer.from(csv(EHR_HEADER, [row('P11', 'José', 'Nguyễn'), row('P12', 'Ann')]), 'utf8');
  const ASSUMES_1252 = { ...EHR_MAP, name: 'ehr', format: { kind: 'csv', encoding: 'windows-1252' } };

  it('warns by default: the packet loads and says which rows and what to change', async () => {
    const company = await createTestCompany(app, { prefix: 'garble', loadMap: ASSUMES_1252 });
    const sourceId = await sourceOf(company, {});
    const loaded = await ingestFile(app, worker.taskQueue, company, 'names.csv', utf8File(), {
      sourceId,
      loadMapId: null,
    });
    expect(loaded.summary.stage).toBe('done');
    const [packet] = await app.sql<{ warnings: string[] }[]>`
      select metadata -> 'warnings' as warnings from data_packets where id = ${loaded.packet.id}`;
    expect(packet!.warnings).toEqual([
      '1 row(s) have text that looks like UTF-8 read as Windows-1252, e.g. row 2, first_name: "JosÃ©" ("José"). The file looks like UTF-8 while the load map reads it as windows-1252: set its "encoding" to "utf-8" (or "auto")',
    ]);
  });

  it('holds the packet when the source says so, and loads nothing until it is released', async () => {
    const company = await createTestCompany(app, { prefix: 'garbhold', loadMap: ASSUMES_1252 });
    const sourceId = await sourceOf(company, { onGarbledText: 'hold' });
    const held = await ingestFile(app, worker.taskQueue, company, 'names.csv', utf8File(), {
      sourceId,
      loadMapId: null,
    });
    expect(held.summary.stage).toBe('held');
    expect(held.summary.error).toContain(
      'row 2, first_name: "JosÃ©" looks like UTF-8 read as Windows-1252 ("José")',
    );
    expect(await contacts(company.id)).toEqual([]);

    // the map fixed to read UTF-8: the release reads the names right
    await addLoadMap(app, company.id, { ...ASSUMES_1252, format: { kind: 'csv', encoding: 'auto' } });
    const released = await herald(['packets', 'release', held.packet.uuid, '--json']);
    expect(JSON.parse(released.stdout)).toMatchObject({ stage: 'done', loadMap: 'ehr v2' });
    expect(await contacts(company.id)).toEqual(['Ann', 'José']);
  });

  it('does not mistake a real Windows-1252 file for garbled text', async () => {
    const company = await createTestCompany(app, { prefix: 'cp1252', loadMap: ASSUMES_1252 });
    const sourceId = await sourceOf(company, { onGarbledText: 'hold' });
    const file = iconv.encode(csv(EHR_HEADER, [row('P21', 'María José', 'Peña')]), 'win1252');
    const loaded = await ingestFile(app, worker.taskQueue, company, 'latin.csv', file, {
      sourceId,
      loadMapId: null,
    });
    expect(loaded.summary.stage).toBe('done');
    expect(await contacts(company.id)).toEqual(['María José']);
  });
});
