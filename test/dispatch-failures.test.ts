import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { findStrandedBatches, sweepBatch } from '../lib/dispatch/sweep';
import { loadAccount, type ProviderAccount } from '../lib/providers/accounts';
import { ProviderError } from '../lib/providers/errors';
import { createProviderRegistry } from '../lib/providers/registry';
import { createSesEmail } from '../lib/providers/ses-email';
import { startSesStandin, type SesStandin } from './standins/ses';
import type { TwilioStandin } from './standins/twilio';
import {
  createContacts,
  createTestAccount,
  insertMessages,
  messageStates,
  twilioProvider,
  withDispatchWorkers,
  type TestCompany,
} from './support/dispatch';
import { crashAfterAccept } from './support/faults';
import { dispatchThrough, useDispatchEnv } from './support/dispatch-env';

let app: App;
let twilio: TwilioStandin;
let company: TestCompany;

useDispatchEnv({ credits: 10_000 }, (env) => ({ app, twilio, company } = env));

async function smsAccount(
  opts: { maxPerSecond?: number; batchSize?: number; fallbackKey?: string } = {},
): Promise<ProviderAccount> {
  return createTestAccount(app.sql, {
    channel: 'sms',
    provider: 'twilio',
    maxPerSecond: opts.maxPerSecond ?? 50,
    batchSize: opts.batchSize ?? 10,
    fallbackKey: opts.fallbackKey,
    senders: [{ address: '+16175550199', kind: 'short_code', maxPerSecond: 100 }],
  });
}

/** How many times the stand-in accepted a text to each of these numbers. */
function acceptedPerRecipient(numbers: string[]): number[] {
  const accepted = twilio.accepted('Messages');
  return numbers.map((to) => accepted.filter((r) => r.form.To === to).length);
}

const phones = async (contactIds: number[]) =>
  (
    await app.sql<
      { phone_e164: string }[]
    >`select phone_e164 from contacts where id in ${app.sql(contactIds)} order by id`
  ).map((r) => r.phone_e164);

describe('when the provider refuses or fails', () => {
  it('fails a message the provider refuses (4xx) with its reason, and sends the rest', async () => {
    const account = await smsAccount();
    const contacts = await createContacts(app.sql, company.id, 5, { state: 'MA' });
    const [bad] = await phones(contacts.slice(0, 1));
    twilio.script.push({
      to: bad!,
      status: 400,
      code: 21211,
      message: `The 'To' number ${bad} is not a valid phone number.`,
      times: 1,
    });
    const ids = await insertMessages(app.sql, company.id, contacts, 'sms');
    await withDispatchWorkers(app, { accounts: [account], twilio }, async (w) => {
      const totals = await dispatchThrough(app, w, company, account);
      expect(totals).toMatchObject({ sent: 4, failed: 1, waiting: 0 });
    });
    const [failed] = await app.sql<{ state: string; status_description: string; credits: string }[]>`
      select state, status_description from messages where id = ${ids[0]!}`;
    expect(failed).toEqual({
      state: 'failed',
      status_description: `21211: Twilio refused the message (HTTP 400: The 'To' number ${bad} is not a valid phone number.)`,
    });
    expect(await app.sql`select 1 from credit_ledger where message_id = ${ids[0]!}`).toHaveLength(0);
  });

  it('marks the contact do-not-text on 21610 (unsubscribed), and skips their later messages', async () => {
    const account = await smsAccount();
    const [contact] = await createContacts(app.sql, company.id, 1);
    const [phone] = await phones([contact!]);
    twilio.script.push({
      to: phone!,
      status: 400,
      code: 21610,
      message: 'Attempt to send to unsubscribed recipient',
      times: 1,
    });
    const [first] = await insertMessages(app.sql, company.id, [contact!], 'sms');
    await withDispatchWorkers(app, { accounts: [account], twilio }, async (w) => {
      await dispatchThrough(app, w, company, account);
      const [row] = await app.sql<
        { do_not_sms: boolean }[]
      >`select do_not_sms from contacts where id = ${contact!}`;
      expect(row!.do_not_sms).toBe(true);
      const [later] = await insertMessages(app.sql, company.id, [contact!], 'sms');
      const totals = await dispatchThrough(app, w, company, account);
      expect(totals).toMatchObject({ sent: 0, skipped: 1 });
      const states =
        await app.sql`select id, state, status_description from messages where id in ${app.sql([first!, later!])} order by id`;
      expect(states.map((s) => s.state)).toEqual(['failed', 'skipped']);
      expect(states[1]!.status_description).toBe('the contact opted out of sms');
    });
    expect(acceptedPerRecipient([phone!])).toEqual([0]);
  });

  it('slows down under a 429 storm and still delivers every message exactly once', async () => {
    const account = await smsAccount({ maxPerSecond: 20, batchSize: 10 });
    const contacts = await createContacts(app.sql, company.id, 30);
    const ids = await insertMessages(app.sql, company.id, contacts, 'sms');
    const refusedBefore = twilio.requests.filter((r) => r.answered === 429).length;
    twilio.rateLimitPerSecond = 6;
    try {
      await withDispatchWorkers(app, { accounts: [account], twilio }, async (w) => {
        const totals = await dispatchThrough(app, w, company, account);
        expect(totals).toMatchObject({ sent: 30, failed: 0, waiting: 0 });
      });
    } finally {
      twilio.rateLimitPerSecond = undefined;
    }
    expect(twilio.requests.filter((r) => r.answered === 429).length).toBeGreaterThan(refusedBefore);
    expect(acceptedPerRecipient(await phones(contacts))).toEqual(Array(30).fill(1));
    expect(await messageStates(app.sql, ids)).toEqual({ sent: 30 });
  }, 120_000);

  it('never sends twice after a crash between the provider accepting and herald recording it', async () => {
    const account = await smsAccount({ batchSize: 8 });
    const contacts = await createContacts(app.sql, company.id, 8);
    const ids = await insertMessages(app.sql, company.id, contacts, 'sms');
    const crashing = crashAfterAccept(twilioProvider(account, twilio), 3);
    await withDispatchWorkers(
      app,
      { accounts: [account], instances: { [account.key]: crashing } },
      async (w) => {
        const totals = await dispatchThrough(app, w, company, account);
        expect(totals, JSON.stringify(totals)).toMatchObject({ sent: 8, waiting: 0, unknown: 0 });
      },
    );
    expect(crashing.crashes).toBe(3);
    const numbers = await phones(contacts);
    expect(acceptedPerRecipient(numbers)).toEqual(Array(8).fill(1));
    // each message carries the sid the stand-in gave its one accepted text
    const rows = await app.sql<{ phone_e164: string; provider_message_id: string; state: string }[]>`
      select c.phone_e164, m.provider_message_id, m.state from messages m join contacts c on c.id = m.contact_id
      where m.id in ${app.sql(ids)}`;
    for (const row of rows) {
      expect(row.state).toBe('sent');
      expect(twilio.messages.find((m) => m.to === row.phone_e164)!.sid).toBe(row.provider_message_id);
    }
    const reconciled = await app.sql`
      select 1 from message_updates where event_type = 'reconciled' and message_id in ${app.sql(ids)}`;
    expect(reconciled).toHaveLength(3);
    expect(twilio.requests.some((r) => r.method === 'GET' && numbers.includes(r.query.To!))).toBe(true);
    const debits =
      await app.sql`select 1 from credit_ledger where kind = 'debit' and message_id in ${app.sql(ids)}`;
    expect(debits).toHaveLength(8);
  });

  it('settles two calls to one family phone that both went out before a crash: each once, none stuck', async () => {
    const account = await createTestAccount(app.sql, {
      channel: 'voice',
      provider: 'twilio',
      maxPerSecond: 10,
      batchSize: 2,
      senders: [{ address: '+16175550187', kind: 'long_code', maxPerSecond: 10 }],
    });
    // two appointments in a family: two contacts, one phone
    const phone = `+1617${Math.floor(1_000_000 + Math.random() * 8_999_999)}`;
    const family = await createContacts(app.sql, company.id, 2, { phone_e164: phone });
    const ids = await insertMessages(app.sql, company.id, family, 'voice');
    const [before] = await app.sql<{ reserved: string }[]>`
      select reserved from credit_accounts where company_id = ${company.id}`;
    const crashing = crashAfterAccept(twilioProvider(account, twilio), 2);
    // a vendor slow to answer: both calls are placed before the first answer (and crash) comes back
    twilio.answerDelayMs = 1000;
    try {
      await withDispatchWorkers(
        app,
        { accounts: [account], instances: { [account.key]: crashing } },
        async (w) => {
          const totals = await dispatchThrough(app, w, company, account, { sendAttempts: 3 });
          expect(totals, JSON.stringify(totals)).toMatchObject({ sent: 2, waiting: 0, unknown: 0 });
        },
      );
    } finally {
      twilio.answerDelayMs = undefined;
    }
    expect(crashing.crashes).toBe(2);
    // the stand-in placed each call once, and both messages are sent and charged once
    expect(twilio.accepted('Calls').filter((r) => r.form.To === phone)).toHaveLength(2);
    expect(await messageStates(app.sql, ids)).toEqual({ sent: 2 });
    const debits =
      await app.sql`select 1 from credit_ledger where kind = 'debit' and message_id in ${app.sql(ids)}`;
    expect(debits).toHaveLength(2);
    const [after] = await app.sql<{ reserved: string }[]>`
      select reserved from credit_accounts where company_id = ${company.id}`;
    expect(after!.reserved).toBe(before!.reserved);
  });

  it('holds an undecided text’s credits until the sweep finds it sent, then charges it once', async () => {
    const account = await smsAccount({ batchSize: 1 });
    const [contact] = await createContacts(app.sql, company.id, 1);
    const [id] = await insertMessages(app.sql, company.id, [contact!], 'sms');
    const reserved = async () =>
      Number(
        (
          await app.sql<{ reserved: string }[]>`
            select reserved from credit_accounts where company_id = ${company.id}`
        )[0]!.reserved,
      );
    const before = await reserved();
    // the vendor takes the text and the worker dies before recording it; the vendor's lists then
    // fail until the sweep asks again
    const crashing = crashAfterAccept(twilioProvider(account, twilio), 1);
    const lookup = crashing.lookup!.bind(crashing);
    let listsAnswer = false;
    crashing.lookup = async (query) => {
      if (listsAnswer) return lookup(query);
      throw new ProviderError('Twilio is unavailable', {
        kind: 'unavailable',
        maybeAccepted: false,
        httpStatus: 503,
      });
    };
    await withDispatchWorkers(
      app,
      { accounts: [account], instances: { [account.key]: crashing } },
      async (w) => {
        const totals = await dispatchThrough(app, w, company, account, { sendAttempts: 2 });
        expect(totals, JSON.stringify(totals)).toMatchObject({ sent: 0, unknown: 1 });
      },
    );
    const [held] = await app.sql<{ state: string; credits: string }[]>`
      select state, credits from messages where id = ${id!}`;
    expect(held!.state).toBe('unknown');
    // it may have gone: its credits stay reserved, neither charged nor given back
    expect(await reserved()).toBe(before + Number(held!.credits));

    // the sweep asks about an 'unknown' text again after five minutes
    listsAnswer = true;
    await app.sql`update messages set last_event_at = now() - interval '6 minutes' where id = ${id!}`;
    const providers = createProviderRegistry({
      sql: app.sql,
      config: app.config,
      instances: { [account.key]: crashing },
    });
    const batches = (
      await findStrandedBatches(app.sql, { limit: 1000, canLookUp: async (key) => key === account.key })
    ).filter((b) => b.messageIds.includes(id!));
    expect(batches).toHaveLength(1);
    await sweepBatch({ sql: app.sql, providers, log: app.log, heartbeat: () => {} }, batches[0]!);

    expect(await messageStates(app.sql, [id!])).toEqual({ sent: 1 });
    expect(acceptedPerRecipient(await phones([contact!]))).toEqual([1]);
    const debits = await app.sql`select 1 from credit_ledger where kind = 'debit' and message_id = ${id!}`;
    expect(debits).toHaveLength(1);
    expect(await reserved()).toBe(before);
  });

  it('marks a crashed send unknown where the provider cannot be asked (SES), and does not resend it', async () => {
    const ses: SesStandin = await startSesStandin();
    try {
      const account = await createTestAccount(app.sql, {
        channel: 'email',
        provider: 'ses',
        maxPerSecond: 10,
        batchSize: 5,
      });
      const real = createSesEmail({
        account: account.key,
        region: 'us-east-1',
        endpoint: ses.url,
        credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      });
      const [contact] = await createContacts(app.sql, company.id, 1);
      const [id] = await insertMessages(app.sql, company.id, [contact!], 'email');
      await withDispatchWorkers(
        app,
        { accounts: [account], instances: { [account.key]: crashAfterAccept(real, 1) } },
        async (w) => {
          const totals = await dispatchThrough(app, w, company, account);
          expect(totals).toMatchObject({ sent: 0, unknown: 1 });
        },
      );
      expect(await ses.emails()).toHaveLength(1);
      const [row] = await app.sql<
        { state: string; status_description: string }[]
      >`select state, status_description from messages where id = ${id!}`;
      expect(row!.state).toBe('unknown');
      expect(row!.status_description).toMatch(/cannot be asked/);
    } finally {
      await ses.close();
    }
  });

  it('fails over to the fallback account when the primary stays unavailable past its retries', async () => {
    const outbox = await loadAccount(app.sql, 'outbox-sms');
    const account = await smsAccount({ batchSize: 5, fallbackKey: outbox.key });
    const contacts = await createContacts(app.sql, company.id, 6);
    const ids = await insertMessages(app.sql, company.id, contacts, 'sms');
    twilio.script.push({ status: 503, code: 20503, message: 'Service Unavailable', times: 1000 });
    try {
      await withDispatchWorkers(app, { accounts: [account, outbox], twilio }, async (w) => {
        const totals = await dispatchThrough(app, w, company, account, { sendAttempts: 2 });
        expect(totals).toMatchObject({ sent: 6, failedOver: 6, waiting: 0 });
      });
    } finally {
      twilio.script.length = 0;
    }
    expect(acceptedPerRecipient(await phones(contacts))).toEqual(Array(6).fill(0));
    const rows = await app.sql<{ provider_account: string; state: string; attempts: number }[]>`
      select provider_account, state, attempts from messages where id in ${app.sql(ids)}`;
    expect(rows.every((r) => r.provider_account === 'outbox-sms' && r.state === 'sent')).toBe(true);
    expect(await app.sql`select 1 from outbox_messages where company_id = ${company.id}`).toHaveLength(6);
  }, 60_000);

  it('fails a message whose template needs a field the message lacks, naming it', async () => {
    const account = await smsAccount();
    const [contact] = await createContacts(app.sql, company.id, 1);
    const [id] = await app.sql<{ id: number }[]>`
      insert into messages (company_id, contact_id, channel, template_name, data, contact_at, region)
      values (${company.id}, ${contact!}, 'sms', 'appointment_reminder', ${app.sql.json({ first_name: 'Bo' })}, now(), 'northeast')
      returning id`;
    await withDispatchWorkers(app, { accounts: [account], twilio }, async (w) => {
      expect(await dispatchThrough(app, w, company, account)).toMatchObject({ failed: 1 });
    });
    const [row] = await app.sql<
      { state: string; status_description: string }[]
    >`select state, status_description from messages where id = ${id!.id}`;
    expect(row!.state).toBe('failed');
    expect(row!.status_description).toMatch(/data\.appointment_date/);
  });
});
