import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { herald } from './support/cli';
import { openTestApp } from './support/harness';
import { createTestCompany, EHR_MAP, type TestCompany } from './support/ingest';

let app: App;
let company: TestCompany;
let dir: string;
beforeAll(async () => {
  app = await openTestApp();
  company = await createTestCompany(app, { prefix: 'maps' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'herald-map-versions-'));
});
afterAll(() => app?.close());

describe('herald loadmap add|list|show|diff', () => {
  it('records a file as a new version only when it changed, and shows, lists and compares the versions', async () => {
    const file = path.join(dir, 'ehr.json');
    const renamed = {
      ...EHR_MAP,
      fields: { ...EHR_MAP.fields, email: { ...EHR_MAP.fields.email, column: 'E-mail' } },
    };
    await writeFile(file, JSON.stringify(renamed, null, 2));

    const dry = await herald(['loadmap', 'add', file, '--company', company.alias, '--dry-run', '--json']);
    expect(JSON.parse(dry.stdout)).toMatchObject({ applied: false, changed: true, version: 2 });
    const add = await herald(['loadmap', 'add', file, '--company', company.alias, '--json'], {
      HERALD_ACTOR: 'ops:lee',
    });
    expect(add.stderr).toBe('');
    expect(JSON.parse(add.stdout)).toMatchObject({ applied: true, name: 'ehr', version: 2, changed: true });
    const again = await herald(['loadmap', 'add', file, '--company', company.alias]);
    expect(again.stdout).toContain('unchanged, version 2 already has this content');
    const audit = await app.sql`
      select action, actor, after ->> 'version' as version, after ->> 'active' as active from audit_log
      where table_name = 'company_load_maps' and company_id = ${company.id} and actor = 'ops:lee' order by id`;
    expect(audit).toEqual([
      { action: 'update', actor: 'ops:lee', version: '1', active: 'false' },
      { action: 'insert', actor: 'ops:lee', version: '2', active: 'true' },
    ]);

    const list = JSON.parse(
      (await herald(['loadmap', 'list', '--company', company.alias, '--json'])).stdout,
    ) as {
      name: string;
      version: number;
      active: boolean;
    }[];
    expect(list.map((v) => [v.name, v.version, v.active])).toEqual([
      ['ehr', 2, true],
      ['ehr', 1, false],
    ]);
    const show = JSON.parse(
      (await herald(['loadmap', 'show', 'ehr@1', '--company', company.alias, '--json'])).stdout,
    ) as {
      version: number;
      loadMap: { fields: { email: { column: string } } };
    };
    expect(show.version).toBe(1);
    expect(show.loadMap.fields.email.column).toBe('Email');
    const diff = await herald(['loadmap', 'diff', 'ehr@1', 'ehr', '--company', company.alias]);
    expect(diff.stdout.split('\n').slice(0, 2)).toEqual([
      'ehr v1 -> ehr v2: 1 difference(s)',
      '  ~ fields.email.column: "Email" -> "E-mail"',
    ]);
    const missing = await herald(['loadmap', 'show', 'ehr@7', '--company', company.alias]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      'has no version 7 of load map "ehr" (it has: ehr (versions 1, 2; active 2))',
    );
  });

  it('records nothing from an invalid file, listing its problems', async () => {
    const file = path.join(dir, 'broken.json');
    await writeFile(file, '{"name": "ehr", "name": "ehr2", "fields": {}}');
    const run = await herald(['loadmap', 'add', file, '--company', company.alias]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('invalid, nothing recorded');
    expect(run.stdout).toContain('name: written twice in one object');
    const [versions] =
      await app.sql`select count(*)::int as n from company_load_maps where company_id = ${company.id} and name = 'ehr2'`;
    expect(versions!.n).toBe(0);
  });
});
