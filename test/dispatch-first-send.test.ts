// What a batch's first text need not wait for: the database's clock, learnt when the send worker
// starts, and its share of the account's cap, asked for while its first chunk is claimed.
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { clockCalibrated, limiterKey } from '../lib/rates/rate-slots';
import type { TwilioStandin } from './standins/twilio';
import {
  contactPhones,
  createContacts,
  createTestAccount,
  insertMessages,
  messageStates,
  startDispatch,
  startDispatchWorkers,
  type TestCompany,
} from './support/dispatch';
import { useDispatchEnv } from './support/dispatch-env';
import { eventually } from './support/harness';

let app: App;
let twilio: TwilioStandin;
let company: TestCompany;

useDispatchEnv({ credits: 1000 }, (env) => ({ app, twilio, company } = env));

const smsAccount = () =>
  createTestAccount(app.sql, {
    channel: 'sms',
    provider: 'twilio',
    maxPerSecond: 50,
    batchSize: 10,
    senders: [{ address: '+16175550199', kind: 'short_code', maxPerSecond: 50 }],
  });

describe("a batch's first text", () => {
  it('finds the database clock already learnt: the send worker learns it when it starts', async () => {
    // nothing in this file's process has reserved a send time yet
    expect(clockCalibrated()).toBe(false);
    const workers = await startDispatchWorkers(app, { accounts: [await smsAccount()], twilio });
    try {
      expect(clockCalibrated()).toBe(true);
    } finally {
      await workers.stop();
    }
  });

  it('has its share of the cap asked for while its chunk is claimed, not after the claim', async () => {
    const account = await smsAccount();
    const workers = await startDispatchWorkers(app, { accounts: [account], twilio });
    const holder = await app.sql.reserve();
    try {
      const contacts = await createContacts(app.sql, company.id, 5);
      const ids = await insertMessages(app.sql, company.id, contacts, 'sms');
      // the claim's last statement reserves credits on the company's row: held here, the claim waits there
      await holder`begin`;
      await holder`select 1 from credit_accounts where company_id = ${company.id} for update`;
      const run = await startDispatch(app, workers.taskQueue, {
        companyId: company.id,
        companyAlias: company.alias,
        channel: 'sms',
        accountKey: account.key,
      });
      const share = await eventually(async () => {
        const [row] = await app.sql<{ have: number; wants: boolean }[]>`
          select have, wants from send_window_shares where key = ${limiterKey.account(account.key)}`;
        return row && row.have > 0 ? row : undefined;
      });
      expect(share).toEqual({ have: expect.any(Number) as number, wants: true });
      // the claim has not committed and nothing was sent: the share came first
      expect(await messageStates(app.sql, ids)).toEqual({ scheduled: 5 });
      const phones = await contactPhones(app.sql, contacts);
      expect(twilio.accepted('Messages').filter((r) => phones.has(String(r.form.To)))).toHaveLength(0);

      await holder`commit`;
      expect(await run.result()).toMatchObject({ sent: 5, waiting: 0 });
      expect(await messageStates(app.sql, ids)).toEqual({ sent: 5 });
    } finally {
      await holder`rollback`.catch(() => undefined);
      holder.release();
      await workers.stop();
    }
  });
});
