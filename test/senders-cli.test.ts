import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { loadSenders } from '../lib/messages/load';
import { upsertAccount } from '../lib/providers/accounts';
import { herald } from './support/cli';
import { createTestCompany } from './support/dispatch';
import { openTestApp } from './support/harness';

let app: App;
beforeAll(async () => {
  app = await openTestApp();
});
afterAll(() => app?.close());

describe('herald senders', () => {
  it("adds a company's own number, which dispatch then sends from instead of the shared ones, and removes it after asking", async () => {
    const company = await createTestCompany(app.sql);
    const number = `+1617555${String(Date.now()).slice(-4)}`;
    const add = await herald(
      [
        'senders',
        'add',
        number.replace(/^\+1(\d{3})(\d{3})(\d{4})$/, '($1) $2-$3'),
        '--company',
        company.alias,
        '--channel',
        'sms',
        '--json',
      ],
      { HERALD_ACTOR: 'ops:sam' },
    );
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({
      applied: true,
      channel: 'sms',
      address: number,
      kind: 'long_code',
      maxPerSecond: 1,
      account: 'outbox-sms',
      shared: false,
      audit: [{ table: 'sender_numbers', action: 'insert' }],
    });
    const [account] = await app.sql<
      { id: number }[]
    >`select id from provider_accounts where key = 'outbox-sms'`;
    expect((await loadSenders(app.sql, account!.id, company.id)).map((s) => s.address)).toEqual([number]);
    const [audit] = await app.sql`
      select actor, action from audit_log where table_name = 'sender_numbers' and company_id = ${company.id}`;
    expect(audit).toEqual({ actor: 'ops:sam', action: 'insert' });

    // the shared number belongs to every company: it cannot become one company's
    const shared = await herald([
      'senders',
      'add',
      '+16175550199',
      '--company',
      company.alias,
      '--channel',
      'sms',
    ]);
    expect(shared.code).toBe(2);
    expect(shared.stderr).toContain('is already shared by every company');
    const email = await herald([
      'senders',
      'add',
      'Desk@Harbor.example',
      '--company',
      company.alias,
      '--channel',
      'email',
    ]);
    expect(email.code).toBe(0);
    const list = JSON.parse(
      (await herald(['senders', 'list', '--company', company.alias, '--json'])).stdout,
    ) as {
      address: string;
      shared: boolean;
    }[];
    expect(list.filter((s) => !s.shared).map((s) => s.address)).toEqual(['desk@harbor.example', number]);

    const unconfirmed = await herald(['senders', 'remove', number, '--company', company.alias]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain(
      `this removes sms sender ${number} from ${company.alias}. Go ahead?`,
    );
    const removed = await herald(['senders', 'remove', number, '--company', company.alias, '--yes']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`removed sms sender ${number}`);
    // back to the shared number
    expect((await loadSenders(app.sql, account!.id, company.id)).map((s) => s.address)).toEqual([
      '+16175550199',
    ]);
  });

  it("refuses another company's number on any account, naming its owner", async () => {
    const [owner, other] = [await createTestCompany(app.sql), await createTestCompany(app.sql)];
    const number = `+1617556${String(Date.now()).slice(-4)}`;
    const key = `second-sms-${Date.now()}`;
    await upsertAccount(app.sql, {
      key,
      channel: 'sms',
      provider: 'outbox',
      maxPerSecond: 10,
      batchSize: 50,
    });
    const owned = await herald(['senders', 'add', number, '--company', owner.alias, '--channel', 'sms']);
    expect(owned.code).toBe(0);
    const taken = await herald([
      'senders',
      'add',
      number,
      '--company',
      other.alias,
      '--channel',
      'sms',
      '--account',
      key,
    ]);
    expect(taken.stderr).toContain(`${number} on outbox-sms already belongs to company ${owner.alias}`);
    expect(taken.code).toBe(2);
    expect(
      await app.sql`select 1 from sender_numbers where address = ${number} and company_id = ${other.id}`,
    ).toHaveLength(0);
  });
});
