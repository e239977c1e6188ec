import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { loadCompanyContext } from '../lib/messages/load';
import { previewMessage, renderInput } from '../lib/render/render-message';
import { herald } from './support/cli';
import { openTestApp } from './support/harness';
import { createTestCompany, type TestCompany } from './support/ingest';

let app: App;
let company: TestCompany;
let dir: string;
beforeAll(async () => {
  app = await openTestApp();
  company = await createTestCompany(app, { prefix: 'tpl', timezone: 'America/Chicago' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'herald-templates-'));
});
afterAll(() => app?.close());

async function file(name: string, text: string): Promise<string> {
  const at = path.join(dir, name);
  await writeFile(at, text);
  return at;
}

describe('herald templates set|list|show', () => {
  it('refuses a template whose function cannot take its field, saving nothing', async () => {
    const bad = await file('born.txt', 'Born {data.first_name|date|YYYY}\n');
    const run = await herald(['templates', 'set', bad, '--company', company.alias, '--channel', 'sms']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('nothing was saved');
    expect(run.stdout).toContain(
      '"date" needs a date and time, but data.first_name is text at line 1, column 23',
    );
    const validate = await herald(['template', 'validate', bad, '--channel', 'sms']);
    expect(validate.code).toBe(1);
    const [saved] =
      await app.sql`select count(*)::int as n from message_templates where company_id = ${company.id}`;
    expect(saved!.n).toBe(0);
  });

  it('saves versions (the newest is sent), previews each with sample data, and lists and shows them', async () => {
    const first = await file(
      'appointment_reminder.txt',
      'Hi {data.first_name}, see you {data.appointment_date|date|dddd}.\n',
    );
    const set = await herald(
      ['templates', 'set', first, '--company', company.alias, '--channel', 'sms', '--json'],
      {
        HERALD_ACTOR: 'ops:ana',
      },
    );
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    const saved = JSON.parse(set.stdout) as {
      saved: { version: number; changed: boolean }[];
      previews: { rendered: { body: string } }[];
    };
    expect(saved.saved).toEqual([expect.objectContaining({ version: 1, changed: true, scope: 'company' })]);
    expect(saved.previews[0]!.rendered.body).toMatch(/^Hi Maria, see you [A-Z][a-z]+day\.$/);
    const same = await herald(['templates', 'set', first, '--company', company.alias, '--channel', 'sms']);
    expect(same.stdout).toContain('unchanged (version 1)');

    const second = await file(
      'v2.txt',
      'Hello {data.first_name}: {data.appointment_date|time|h:mm A} with {data.provider}.',
    );
    const v2 = await herald([
      'templates',
      'set',
      second,
      '--company',
      company.alias,
      '--channel',
      'sms',
      '--name',
      'appointment_reminder',
      '--data',
      '{"first_name":"Lu","appointment_date":"2027-03-05T15:30:00Z","provider":"Dr. Kim"}',
    ]);
    expect(v2.code).toBe(0);
    expect(v2.stdout).toContain('version 2 saved, sent from now on');
    expect(v2.stdout).toContain('Hello Lu: 9:30 AM with Dr. Kim.');

    const context = await loadCompanyContext(app.sql, company.id, 'sms');
    const chosen = renderInput(
      context,
      previewMessage({
        companyId: company.id,
        channel: 'sms',
        templateName: 'appointment_reminder',
        data: {},
      }),
    );
    expect(chosen.template).toMatchObject({ scope: 'company', version: 2 });
    const [audit] = await app.sql`
      select actor from audit_log where table_name = 'message_templates' and company_id = ${company.id} order by id limit 1`;
    expect(audit!.actor).toBe('ops:ana');

    const list = JSON.parse(
      (await herald(['templates', 'list', '--company', company.alias, '--json'])).stdout,
    ) as {
      scope: string;
      channel: string;
      version: number;
      versions: number;
    }[];
    expect(list.find((t) => t.scope === 'company')).toMatchObject({
      channel: 'sms',
      version: 2,
      versions: 2,
    });
    const show = await herald([
      'templates',
      'show',
      'appointment_reminder',
      '--company',
      company.alias,
      '--channel',
      'sms',
    ]);
    expect(show.stdout.split('\n').filter((l) => l.startsWith('sms appointment_reminder'))).toEqual([
      expect.stringMatching(/^sms appointment_reminder \(en\) company v2, /),
      expect.stringMatching(/^sms appointment_reminder \(en\) company v1, /),
      expect.stringMatching(/^sms appointment_reminder \(en\) global v1, /),
    ]);
  });
});
