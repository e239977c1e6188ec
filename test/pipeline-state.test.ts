// The figures /metrics and `herald status` read from messages in one pass agree with each figure
// counted on its own, the plain way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../lib/db';
import { readPipelineState } from '../lib/ops/pipeline-state';
import { createContacts, createTestAccount, createTestCompany, insertMessages } from './support/dispatch';

let sql: Sql;
let account: string;

beforeAll(async () => {
  sql = createSql({ url: process.env.DATABASE_URL!, actor: 'test' });
  const company = await createTestCompany(sql);
  account = (
    await createTestAccount(sql, {
      provider: 'outbox',
      channel: 'sms',
      maxPerSecond: 5,
      batchSize: 10,
    })
  ).key;
  const ids = await insertMessages(sql, company.id, await createContacts(sql, company.id, 7), 'sms');
  // 3 stay scheduled and due; 2 sent a moment ago through the account; 2 failed with a vendor code
  await sql`update messages set state = 'sending', sending_at = now() where id in ${sql(ids.slice(3))}`;
  await sql`update messages set state = 'sent', sent_at = now(), provider = 'twilio', provider_account = ${account}
            where id in ${sql(ids.slice(3, 5))}`;
  await sql`update messages set state = 'failed', provider = 'twilio', status_description = '30007: Carrier violation'
            where id in ${sql(ids.slice(5))}`;
});
afterAll(() => sql?.end());

describe('readPipelineState', () => {
  it('counts messages by company, state and channel; failures by code; recent sends per account; due work', async () => {
    const started = Date.now();
    const state = await readPipelineState(sql);

    const byState = await sql<{ company: string; state: string; channel: string; count: number }[]>`
      select c.alias as company, m.state, m.channel, count(*)::int as count
      from messages m join companies c on c.id = m.company_id
      group by 1, 2, 3 order by 1, 2, 3`;
    expect(state.messages).toEqual(byState);

    const failures = await sql<{ provider: string; code: string; count: number }[]>`
      select coalesce(provider, 'none') as provider,
             substring(status_description from '^([A-Za-z0-9_.-]+): ') as code, count(*)::int as count
      from messages where state = 'failed' and status_description ~ '^[A-Za-z0-9_.-]+: '
      group by 1, 2 order by 1, 2`;
    expect(state.providerErrors).toEqual(failures);
    expect(state.providerErrors).toContainEqual({ provider: 'twilio', code: '30007', count: 2 });

    const [ours] = state.caps.filter((c) => c.account === account);
    expect(ours?.sentLastMinute).toBe(2);
    for (const cap of state.caps) {
      const [recent] = await sql<{ n: number }[]>`
        select count(*)::int as n from messages
        where provider_account = ${cap.account} and sent_at > now() - interval '1 minute'`;
      expect(cap.sentLastMinute, cap.account).toBe(recent!.n);
    }

    const [due] = await sql<{ count: number; oldest: number }[]>`
      select count(*)::int as count, coalesce(extract(epoch from now() - min(contact_at)), 0)::float8 as oldest
      from messages where state = 'scheduled' and contact_at <= now()`;
    expect(state.due.count).toBe(due!.count);
    expect(state.due.count).toBeGreaterThanOrEqual(3);
    // each reads the clock of its own transaction: they differ by at most the time between the two
    const apart = (Date.now() - started) / 1000;
    expect(Math.abs(state.due.oldestSeconds - due!.oldest)).toBeLessThanOrEqual(apart + 0.5);
    expect(state.due.oldestSeconds).toBeGreaterThanOrEqual(60);
  });
});
