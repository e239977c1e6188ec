import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { createContacts, createTestCompany, insertMessages, type TestCompany } from './support/dispatch';
import { openTestApp } from './support/harness';

let app: App;
let company: TestCompany;
beforeAll(async () => {
  app = await openTestApp();
  company = await createTestCompany(app.sql, { credits: 10 });
});
afterAll(() => app.close());

function herald(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/herald.ts', ...args], {
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe('herald template and outbox commands', () => {
  it('validate names each problem with its position and a suggestion, checking fields against the load maps', async () => {
    const file = path.join(os.tmpdir(), `tmpl-${process.pid}.json`);
    await writeFile(
      file,
      JSON.stringify({
        name: 'r',
        channel: 'sms',
        body: 'Hi {data.frist_name}, {data.appointment_date|date|MM/DD/YYYY HH:MM} {company.nmae}',
      }),
    );
    const run = herald('template', 'validate', file, '--company', 'demo-clinic', '--json');
    expect(run.code).toBe(1);
    const result = JSON.parse(run.out) as {
      valid: boolean;
      issues: { severity: string; code: string; message: string }[];
    };
    expect(result.valid).toBe(false);
    expect(result.issues.map((i) => [i.severity, i.code])).toEqual([
      ['error', 'unknown_field'],
      ['error', 'unknown_field'],
      ['warning', 'argument_warning'],
    ]);
    expect(result.issues[0]!.message).toBe(
      'unknown field "data.frist_name" at line 1, column 4 (did you mean "data.first_name"?)',
    );
    expect(herald('template', 'validate', file.replace('.json', '.txt')).code).toBe(2);
  });

  it('preview shows every channel, with segment counts, for given data or a contact', () => {
    const data = JSON.stringify({ first_name: 'JOSÉ', appointment_date: '2030-03-05T14:30:00Z' });
    const run = herald(
      'template',
      'preview',
      '--company',
      company.alias,
      '--template',
      'appointment_reminder',
      '--data',
      data,
      '--json',
    );
    expect(run.err).toBe('');
    const results = JSON.parse(run.out) as { channel: string; rendered: Record<string, unknown> }[];
    expect(results.map((r) => r.channel)).toEqual(['sms', 'voice', 'email']);
    expect(results[0]!.rendered).toMatchObject({
      body: 'Hi José, this is Harbor Dental reminding you of your appointment on Tue Mar 5 at 9:30 AM. Reply C to confirm, N to cancel, STOP to opt out.',
      segments: 1,
      encoding: 'GSM-7',
    });
    expect(results[1]!.rendered.twiml).toContain('<Gather numDigits="1"');
    expect(results[2]!.rendered.subject).toBe('Reminder: your appointment on Mar 5 at 9:30 AM');
    const text = herald(
      'template',
      'preview',
      '--company',
      company.alias,
      '--template',
      'appointment_reminder',
      '--data',
      '{}',
    );
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^sms: global appointment_reminder \(en\) v1\n {2}1 segment\(s\), GSM-7\n/);
    expect(text.out).toContain('missing (rendered empty): data.first_name, data.appointment_date');
    expect(
      herald('template', 'preview', '--company', company.alias, '--template', 'appointment_reminder').code,
    ).toBe(2);
  });

  it('preview uses a contact’s latest message data; outbox lists what the local outbox stored', async () => {
    const [contact] = await createContacts(app.sql, company.id, 1);
    await insertMessages(app.sql, company.id, [contact!], 'sms');
    const run = herald(
      'template',
      'preview',
      '--company',
      company.alias,
      '--template',
      'appointment_reminder',
      '--contact',
      String(contact),
    );
    expect(run.code).toBe(0);
    expect(run.out).toContain('Hi Ann0, this is Harbor Dental');

    await app.sql`
      insert into outbox_messages (message_uuid, company_id, account_key, channel, to_address, from_address, body, segments)
      values (gen_random_uuid(), ${company.id}, 'outbox-sms', 'sms', '+16175550123', '+16175550199', 'Hello from the outbox', 1)`;
    const outbox = herald('outbox', '--company', company.alias, '--limit', '5');
    expect(outbox.code).toBe(0);
    expect(outbox.out).toMatch(
      /sms {2}\+16175550199 -> \+16175550123 {2}\(outbox-sms\)\n {2}Hello from the outbox {2}\[1 segment\(s\)\]/,
    );
    expect(herald('outbox', '--limit', 'x').code).toBe(2);
  });
});
