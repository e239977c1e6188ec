import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { regionTaskQueue, SCHEDULE_IDS, TASK_QUEUES } from '../lib/names';
import { createTestCompany, type TestCompany } from './support/dispatch';
import { openTestApp, startTestWorker, type TestWorker } from './support/harness';
import { addPerson, messageRow, planTouch, winterNoonInNewYork } from './support/reminders';

let app: App;
let company: TestCompany;
let workers: TestWorker[] = [];

function herald(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/herald.ts', ...args], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  app = await openTestApp();
  company = await createTestCompany(app.sql, { credits: 100 });
  // the CLI starts runs on the pipeline queue, as in production
  workers = await Promise.all(
    [TASK_QUEUES.pipeline, regionTaskQueue('northeast')].map((taskQueue) =>
      startTestWorker(app, { taskQueue }),
    ),
  );
});
afterAll(async () => {
  const client = await app.client();
  await client.schedule
    .getHandle(SCHEDULE_IDS.reminders(company.alias))
    .delete()
    .catch(() => {});
  await Promise.all(workers.map((w) => w.stop()));
  await app?.close();
});

describe('herald reminders and optout', () => {
  it('optout add skips pending texts with the reason, list shows the person, remove opts them back in', async () => {
    const p = await addPerson(app.sql, company.id, {
      state: 'NY',
      timezone: 'America/New_York',
      region: 'northeast',
      appointmentAt: new Date(Date.now() + 86_400_000),
    });
    const pending = await planTouch(app.sql, company.id, p, {
      channel: 'sms',
      contactAt: new Date(Date.now() + 3_600_000),
      step: 'sms-1h',
      region: 'northeast',
    });
    const national = `(${p.phone.slice(2, 5)}) ${p.phone.slice(5, 8)}-${p.phone.slice(8)}`;

    const add = await herald([
      'optout',
      'add',
      '--company',
      company.alias,
      '--phone',
      national,
      '--reason',
      'called the front desk',
    ]);
    expect(add.stderr).toBe('');
    expect(add.stdout).toContain('opted out 1 contact(s) of sms; 1 pending message(s) skipped');
    expect(await messageRow(app.sql, pending)).toMatchObject({
      state: 'skipped',
      status_description: expect.stringMatching(/called the front desk/),
    });

    const list = await herald(['optout', 'list', '--company', company.alias, '--json']);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ phone_e164: p.phone, do_not_sms: true, do_not_call: false }),
    ]);

    const remove = await herald(['optout', 'remove', '--company', company.alias, '--phone', p.phone]);
    expect(remove.stdout).toContain('opted 1 contact(s) back in to sms');
    const [c] = await app.sql`select do_not_sms from contacts where id = ${p.contactId}`;
    expect(c!.do_not_sms).toBe(false);

    const bad = await herald(['optout', 'add', '--company', company.alias, '--phone', 'call me']);
    expect(bad.code).toBe(2);
  });

  it('reminders run --now runs, waits and prints the summary; schedule creates, pauses and shows', async () => {
    const now = winterNoonInNewYork();
    const p = await addPerson(app.sql, company.id, {
      state: 'HI',
      timezone: 'Pacific/Honolulu',
      region: 'northeast',
      areaCode: '808',
      appointmentAt: new Date(now.getTime() + 86_400_000),
    });
    const early = await planTouch(app.sql, company.id, p, {
      channel: 'sms',
      contactAt: new Date(now.getTime() - 60_000),
      step: 'sms-1d',
      region: 'northeast',
    });

    const run = await herald(['reminders', 'run', '--company', company.alias, '--now', now.toISOString()]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `Reminder run of ${company.alias} at ${now.toISOString()}: 1 due, 0 sent, 1 deferred (quiet hours)`,
    );
    expect((await messageRow(app.sql, early)).deferrals).toBe(1);

    const created = await herald(['reminders', 'schedule', '--company', company.alias]);
    expect(created.stdout).toContain(
      `schedule reminders/${company.alias} (created): every 15 minutes, active`,
    );
    const paused = await herald(['reminders', 'schedule', '--company', company.alias, '--pause']);
    expect(paused.stdout).toMatch(/PAUSED \(paused by /);
    const shown = await herald(['reminders', 'schedule', '--company', company.alias, '--show', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ paused: true, everyMinutes: 15 });

    // the settings win: while they say paused, --resume is refused with the way out
    await app.sql`
      update companies set settings = jsonb_set(coalesce(settings, '{}'), '{reminders}',
        coalesce(settings->'reminders', '{}') || '{"schedule": {"paused": true}}')
      where id = ${company.id}`;
    const refused = await herald(['reminders', 'schedule', '--company', company.alias, '--resume']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/reminder settings say paused: true; remove it from the settings/);
    const still = await herald(['reminders', 'schedule', '--company', company.alias, '--show', '--json']);
    expect(JSON.parse(still.stdout)).toMatchObject({ paused: true });
  });
});
