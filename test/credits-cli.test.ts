import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { herald } from './support/cli';
import {
  createContacts,
  createTestCompany,
  dispatchThroughOutbox,
  insertMessages,
  messageStates,
  type TestCompany,
} from './support/dispatch';
import { openTestApp } from './support/harness';

let app: App;
beforeAll(async () => {
  app = await openTestApp();
});
afterAll(() => app?.close());

const dispatchSms = (company: TestCompany) => dispatchThroughOutbox(app, company, 'sms');

describe('herald credits', () => {
  it('grants credits as a ledger entry with the reason, and the messages held for credits are sent again', async () => {
    const company = await createTestCompany(app.sql);
    const ids = await insertMessages(
      app.sql,
      company.id,
      await createContacts(app.sql, company.id, 3),
      'sms',
    );
    expect(await dispatchSms(company)).toMatchObject({ sent: 0, held: 3 });

    const dry = await herald([
      'credits',
      'grant',
      '10',
      '--company',
      company.alias,
      '--reason',
      'invoice 7',
      '--dry-run',
      '--json',
    ]);
    expect(JSON.parse(dry.stdout)).toMatchObject({ applied: false, dryRun: true, released: 3, balance: 10 });
    expect(await messageStates(app.sql, ids)).toEqual({ held: 3 });

    const grant = await herald(
      [
        'credits',
        'grant',
        '5000',
        '--company',
        company.alias,
        '--reason',
        'invoice 7',
        '--package',
        '5000',
        '--json',
      ],
      { HERALD_ACTOR: 'billing:kim' },
    );
    expect(grant.stderr).toBe('');
    expect(JSON.parse(grant.stdout)).toMatchObject({
      applied: true,
      credits: 5000,
      amount: 500,
      balance: 5000,
      released: 3,
      audit: [{ table: 'credit_ledger', action: 'insert', changes: { note: { after: 'invoice 7' } } }],
    });
    const [entry] = await app.sql`
      select kind, credits::int, note, actor from credit_ledger where company_id = ${company.id} and kind = 'purchase'`;
    expect(entry).toEqual({ kind: 'purchase', credits: 5000, note: 'invoice 7', actor: 'billing:kim' });
    const [audited] = await app.sql`
      select actor from audit_log where table_name = 'credit_ledger' and company_id = ${company.id}`;
    expect(audited!.actor).toBe('billing:kim');
    expect(await messageStates(app.sql, ids)).toEqual({ scheduled: 3 });
    expect(await dispatchSms(company)).toMatchObject({ sent: 3, held: 0 });

    // taking credits away is an adjustment, and asks first
    const take = await herald([
      'credits',
      'grant',
      '-100',
      '--company',
      company.alias,
      '--reason',
      'refund',
      '--adjust',
    ]);
    expect(take.code).toBe(2);
    expect(take.stderr).toContain(`this takes 100 credits from ${company.alias}. Go ahead?`);
    const show = JSON.parse(
      (await herald(['credits', 'show', '--company', company.alias, '--json'])).stdout,
    ) as {
      balance: number;
      entries: { note: string }[];
      debits: { kind: string; entries: number }[];
    };
    expect(show.balance).toBe(4997);
    expect(show.entries.map((e) => e.note)).toEqual(['invoice 7']);
    expect(show.debits).toEqual([{ kind: 'debit', entries: 3, credits: -3 }]);
  });
});
