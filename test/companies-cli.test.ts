import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { herald } from './support/cli';
import { openTestApp } from './support/harness';

let app: App;
beforeAll(async () => {
  app = await openTestApp();
});
afterAll(() => app?.close());

const OPERATOR = { HERALD_ACTOR: 'ops:jane' };
const newAlias = () => `acme-${randomUUID().slice(0, 8)}`;

async function auditOf(alias: string) {
  return app.sql<
    { table_name: string; action: string; actor: string; after: Record<string, unknown> | null }[]
  >`
    select l.table_name, l.action, l.actor, l.after from audit_log l join companies c on c.id = l.company_id
    where c.alias = ${alias} order by l.id`;
}

describe('herald companies', () => {
  it('adds a company with its reminder plan, quiet hours and plan limits, audited under the operator', async () => {
    const alias = newAlias();
    const run = await herald(
      [
        'companies',
        'add',
        alias,
        '--name',
        'Acme Health',
        '--timezone',
        'America/Chicago',
        '--reminder-plan',
        '[{"step":"sms-1d","channel":"sms","offset":{"days":-1},"at":"10:00"}]',
        '--quiet-hours',
        '{"window":{"start":"09:00","end":"19:00"}}',
        '--limit',
        'sms-per-day=500',
        '--json',
      ],
      OPERATOR,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      applied: true,
      actor: 'ops:jane',
      alias,
      timezone: 'America/Chicago',
      settings: {
        reminderPlan: [{ step: 'sms-1d', channel: 'sms', offset: { days: -1 }, at: '10:00' }],
        reminders: { quietHours: { window: { start: '09:00', end: '19:00' } } },
      },
      plan: { plan: 'standard', limits: { 'sms-per-day': 500, 'voice-per-day': null } },
    });
    const audit = await auditOf(alias);
    expect(audit.map((a) => [a.table_name, a.action, a.actor])).toEqual([
      ['companies', 'insert', 'ops:jane'],
      ['company_plans', 'insert', 'ops:jane'],
    ]);

    // settings the schemas refuse: nothing changes, and each problem names its path
    const bad = await herald([
      'companies',
      'set',
      alias,
      '--reminder-plan',
      '[{"step":"sms-1d","channel":"fax","offset":{}}]',
      '--yes',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('settings.reminderPlan.0.channel:');
    expect(bad.stderr).toContain('settings.reminderPlan.0.offset: needs days, hours or minutes');
    expect(await auditOf(alias)).toHaveLength(2);
  });

  it('shows a change with --dry-run and changes nothing; replacing a value asks first unless --yes', async () => {
    const alias = newAlias();
    expect((await herald(['companies', 'add', alias, '--name', 'Acme'])).code).toBe(0);

    const dry = await herald(['companies', 'set', alias, '--timezone', 'America/Denver', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run: nothing was changed');
    expect(dry.stdout).toContain('~ companies');
    expect(dry.stdout).toContain('timezone "America/New_York" -> "America/Denver"');

    // no answer (stdin empty): refused, nothing written
    const unanswered = await herald(['companies', 'set', alias, '--timezone', 'America/Denver']);
    expect(unanswered.code).toBe(2);
    expect(unanswered.stderr).toContain('this replaces companies.timezone. Go ahead? [y/N]');
    expect(unanswered.stderr).toContain('not confirmed');
    const declined = await herald(
      ['companies', 'set', alias, '--timezone', 'America/Denver'],
      {},
      { input: 'n\n' },
    );
    expect(declined.code).toBe(2);
    const [still] = await app.sql`select timezone from companies where alias = ${alias}`;
    expect(still!.timezone).toBe('America/New_York');

    const accepted = await herald(['companies', 'set', alias, '--timezone', 'America/Denver'], OPERATOR, {
      input: 'y\n',
    });
    expect(accepted.code).toBe(0);
    // a value that was not set yet is not replaced: no question
    const added = await herald(['companies', 'set', alias, '--phone', '+16175550100']);
    expect(added.code).toBe(0);
    const [after] = await app.sql`select timezone, phone_number from companies where alias = ${alias}`;
    expect(after).toEqual({ timezone: 'America/Denver', phone_number: '+16175550100' });
    const updates = (await auditOf(alias)).filter((a) => a.action === 'update');
    expect(updates.map((a) => a.actor)).toEqual(['ops:jane', 'test']);

    const show = await herald(['companies', 'show', alias, '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({
      alias,
      timezone: 'America/Denver',
      senders: expect.arrayContaining([expect.objectContaining({ shared: true })]),
      credits: { balance: 0 },
    });
    const list = await herald(['companies', 'list', '--json']);
    expect((JSON.parse(list.stdout) as { alias: string }[]).map((c) => c.alias)).toContain(alias);
  });
});
