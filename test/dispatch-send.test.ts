import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { createSesEmail } from '../lib/providers/ses-email';
import { startSesStandin, type SesStandin } from './standins/ses';
import type { TwilioStandin } from './standins/twilio';
import {
  createContacts,
  createTestAccount,
  createTestCompany,
  insertMessages,
  messageStates,
  runDispatch,
  startDispatchWorkers,
  type TestCompany,
} from './support/dispatch';
import { dispatchThrough, useDispatchEnv } from './support/dispatch-env';

let app: App;
let twilio: TwilioStandin;
let ses: SesStandin;
let company: TestCompany;

useDispatchEnv({ credits: 1000 }, (env) => ({ app, twilio, company } = env));
beforeAll(async () => {
  ses = await startSesStandin();
});
afterAll(() => ses.close());

describe('dispatch sends each due message once, through its account', () => {
  it('texts through Twilio: the exact form per message, states, provider ids and one debit per segment', async () => {
    const account = await createTestAccount(app.sql, {
      channel: 'sms',
      provider: 'twilio',
      maxPerSecond: 50,
      batchSize: 4,
      senders: [{ address: '+16175550199', kind: 'short_code', maxPerSecond: 50 }],
    });
    const workers = await startDispatchWorkers(app, {
      accounts: [account],
      twilio,
      publicBaseUrl: 'https://herald.example',
    });
    try {
      const contacts = await createContacts(app.sql, company.id, 10);
      const ids = await insertMessages(app.sql, company.id, contacts, 'sms');
      const totals = await dispatchThrough(app, workers, company, account);
      expect(totals).toMatchObject({ sent: 10, failed: 0, held: 0, waiting: 0, batches: 3 });

      const posts = twilio.accepted('Messages').filter((r) => String(r.form.Body).includes('Harbor Dental'));
      expect(posts).toHaveLength(10);
      const [first] = await app.sql<
        { phone_e164: string }[]
      >`select phone_e164 from contacts where id = ${contacts[0]!}`;
      const [firstUuid] = await app.sql<{ uuid: string }[]>`select uuid from messages where id = ${ids[0]!}`;
      expect(posts.find((p) => p.form.To === first!.phone_e164)!.form).toEqual({
        To: first!.phone_e164,
        From: '+16175550199',
        Body: 'Hi Ann0, this is Harbor Dental reminding you of your appointment on Tue Mar 5 at 9:30 AM. Reply C to confirm, N to cancel, STOP to opt out.',
        StatusCallback: `https://herald.example/callbacks/twilio/sms/status?m=${firstUuid!.uuid}`,
      });
      expect(new Set(posts.map((p) => p.form.To)).size).toBe(10);
      // every request carries our own id of the message it sends
      const uuidByPhone = new Map(
        (
          await app.sql<{ phone_e164: string; uuid: string }[]>`
            select c.phone_e164, m.uuid from messages m join contacts c on c.id = m.contact_id
            where m.id in ${app.sql(ids)}`
        ).map((r) => [r.phone_e164, r.uuid]),
      );
      for (const post of posts)
        expect(post.form.StatusCallback).toBe(
          `https://herald.example/callbacks/twilio/sms/status?m=${uuidByPhone.get(String(post.form.To))}`,
        );

      const rows = await app.sql<
        {
          state: string;
          provider: string;
          provider_account: string;
          provider_message_id: string;
          segments: number;
          attempts: number;
        }[]
      >`
        select state, provider, provider_account, provider_message_id, segments, attempts from messages where id in ${app.sql(ids)} order by id`;
      expect(
        rows.every(
          (r) =>
            r.state === 'sent' &&
            r.provider === 'twilio' &&
            r.provider_account === account.key &&
            r.attempts === 1,
        ),
      ).toBe(true);
      expect(new Set(rows.map((r) => r.provider_message_id))).toEqual(
        new Set(twilio.messages.slice(-10).map((m) => m.sid)),
      );
      const debits = await app.sql<{ credits: string }[]>`
        select credits from credit_ledger where kind = 'debit' and message_id in ${app.sql(ids)}`;
      expect(debits.map((d) => Number(d.credits))).toEqual(Array(10).fill(-1));

      // a second run finds nothing due and sends nothing
      const again = await dispatchThrough(app, workers, company, account);
      expect(again.sent).toBe(0);
      expect(
        twilio.accepted('Messages').filter((r) => String(r.form.Body).includes('Harbor Dental')),
      ).toHaveLength(10);
    } finally {
      await workers.stop();
    }
  });

  it('texts a company that has numbers of its own only from them, and no other company from them', async () => {
    const account = await createTestAccount(app.sql, {
      channel: 'sms',
      provider: 'twilio',
      maxPerSecond: 50,
      batchSize: 10,
      senders: [{ address: '+16175550146', kind: 'short_code', maxPerSecond: 50 }],
    });
    const owner = await createTestCompany(app.sql, { credits: 100 });
    const own = ['+16175550147', '+16175550148'];
    for (const address of own)
      await app.sql`
        insert into sender_numbers (account_id, company_id, address, kind, max_per_second)
        values (${account.id}, ${owner.id}, ${address}, 'long_code', 50)`;
    const workers = await startDispatchWorkers(app, { accounts: [account], twilio });
    try {
      const owned = await createContacts(app.sql, owner.id, 4);
      const shared = await createContacts(app.sql, company.id, 4);
      await insertMessages(app.sql, owner.id, owned, 'sms');
      await insertMessages(app.sql, company.id, shared, 'sms');
      await dispatchThrough(app, workers, owner, account);
      await dispatchThrough(app, workers, company, account);
      const from = async (contacts: number[]) => {
        const phones = new Set(
          (
            await app.sql<{ phone_e164: string }[]>`
              select phone_e164 from contacts where id in ${app.sql(contacts)}`
          ).map((r) => r.phone_e164),
        );
        return twilio
          .accepted('Messages')
          .filter((r) => phones.has(String(r.form.To)))
          .map((r) => String(r.form.From));
      };
      const ownerFrom = await from(owned);
      expect(ownerFrom).toHaveLength(4);
      expect(ownerFrom.every((f) => own.includes(f))).toBe(true);
      expect(await from(shared)).toEqual(Array(4).fill('+16175550146'));
    } finally {
      await workers.stop();
    }
  });

  it('calls through Twilio with TwiML that confirms or cancels, and keeps a call record', async () => {
    const account = await createTestAccount(app.sql, {
      channel: 'voice',
      provider: 'twilio',
      maxPerSecond: 10,
      batchSize: 5,
      senders: [{ address: '+16175550188', kind: 'long_code', maxPerSecond: 10 }],
    });
    const workers = await startDispatchWorkers(app, {
      accounts: [account],
      twilio,
      publicBaseUrl: 'https://herald.example',
    });
    try {
      await app.sql`
        insert into message_templates (scope, company_id, channel, name, language, body, details)
        values ('company', ${company.id}, 'voice', 'appointment_reminder', 'es',
                'Hola {data.first_name}. {company.name} le recuerda su cita el {data.appointment_date|date|dddd D [de] MMMM [a las] h:mm A}.',
                ${app.sql.json({ snippets: { confirm_prompt: 'Oprima 1 para confirmar o 2 para cancelar.', no_input: 'Adiós.' } })})`;
      const [spanish, english] = await createContacts(app.sql, company.id, 2, { language: 'es-MX' });
      await app.sql`update contacts set language = 'fr' where id = ${english!}`;
      const [id] = await insertMessages(app.sql, company.id, [spanish!], 'voice');
      const totals = await dispatchThrough(app, workers, company, account);
      expect(totals.sent).toBe(1);
      const call = twilio.accepted('Calls').at(-1)!;
      const [callee] = await app.sql<
        { phone_e164: string }[]
      >`select phone_e164 from contacts where id = ${spanish!}`;
      const [message] = await app.sql<{ uuid: string }[]>`select uuid from messages where id = ${id!}`;
      const uuid = message!.uuid;
      // the status callback and the key pressed come back with our own id of the message
      expect(call.form).toMatchObject({
        To: callee!.phone_e164,
        From: '+16175550188',
        Timeout: '30',
        StatusCallback: `https://herald.example/callbacks/twilio/voice/status?m=${uuid}`,
      });
      const gather = `<Gather numDigits="1" timeout="6" action="https://herald.example/callbacks/twilio/voice/gather?m=${uuid}" method="POST">`;
      expect(call.form.Twiml).toBe(
        `<?xml version="1.0" encoding="UTF-8"?><Response>${gather}` +
          '<Say language="es-MX">Hola Ann0. Harbor Dental le recuerda su cita el martes 5 de marzo a las 9:30 AM.</Say>' +
          '<Say language="es-MX">Oprima 1 para confirmar o 2 para cancelar.</Say></Gather>' +
          `${gather}<Say language="es-MX">Oprima 1 para confirmar o 2 para cancelar.</Say></Gather>` +
          '<Say language="es-MX">Adiós.</Say></Response>',
      );
      const [record] = await app.sql<{ status: string; provider_call_sid: string; to_number: string }[]>`
        select status, provider_call_sid, to_number from calls where message_id = ${id!}`;
      expect(record).toEqual({
        status: 'queued',
        provider_call_sid: twilio.calls.at(-1)!.sid,
        to_number: callee!.phone_e164,
      });
      // a language the company has no template in falls back to English, said by an English voice
      await insertMessages(app.sql, company.id, [english!], 'voice');
      await dispatchThrough(app, workers, company, account);
      expect(twilio.accepted('Calls').at(-1)!.form.Twiml).toContain(
        '<Say language="en-US">Hello Ann0. This is Harbor Dental with a reminder of your appointment on Tuesday, March 5 at 9:30 AM.</Say>',
      );
    } finally {
      await workers.stop();
    }
  });

  it('emails through SES with the company as sender and an unsubscribe header', async () => {
    const account = await createTestAccount(app.sql, {
      channel: 'email',
      provider: 'ses',
      maxPerSecond: 10,
      batchSize: 5,
    });
    const workers = await startDispatchWorkers(app, {
      accounts: [account],
      instances: {
        [account.key]: createSesEmail({
          account: account.key,
          region: 'us-east-1',
          endpoint: ses.url,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          configurationSet: 'herald',
        }),
      },
    });
    try {
      const [contact] = await createContacts(app.sql, company.id, 1);
      const [id] = await insertMessages(app.sql, company.id, [contact!], 'email');
      expect((await dispatchThrough(app, workers, company, account)).sent).toBe(1);
      const [row] = await app.sql<{ uuid: string }[]>`select uuid from messages where id = ${id!}`;
      const uuid = row!.uuid;
      const body = ses.requests.at(-1)!.body as {
        FromEmailAddress: string;
        Content: {
          Simple: { Subject: { Data: string }; Headers: unknown[]; Body: { Html: { Data: string } } };
        };
      };
      expect(body.FromEmailAddress).toBe('"Harbor Dental" <reminders@harbor.example>');
      expect(body.Content.Simple.Subject.Data).toBe('Reminder: your appointment on Mar 5 at 9:30 AM');
      expect(body.Content.Simple.Body.Html.Data).toContain('<strong>Harbor Dental</strong>');
      expect(body.Content.Simple.Headers).toEqual([
        { Name: 'List-Unsubscribe', Value: `<mailto:desk@harbor.example?subject=unsubscribe%20${uuid}>` },
      ]);
      expect(ses.requests.at(-1)!.body).toMatchObject({
        ReplyToAddresses: ['desk@harbor.example'],
        ConfigurationSetName: 'herald',
      });
      // our own id travels as a message tag, and comes back in SES's events
      expect((ses.requests.at(-1)!.body as { EmailTags: unknown[] }).EmailTags).toContainEqual({
        Name: 'message',
        Value: uuid,
      });
    } finally {
      await workers.stop();
    }
  });

  it('stores in the local outbox by default', async () => {
    const [outbox] = await app.sql<
      { key: string }[]
    >`select key from provider_accounts where channel = 'sms' and is_default`;
    const { loadAccount } = await import('../lib/providers/accounts');
    const workers = await startDispatchWorkers(app, { accounts: [await loadAccount(app.sql, outbox!.key)] });
    try {
      const other = await createTestCompany(app.sql, { credits: 100 });
      const ids = await insertMessages(app.sql, other.id, await createContacts(app.sql, other.id, 3), 'sms');
      expect(
        (await runDispatch(app, workers, { companyId: other.id, companyAlias: other.alias, channel: 'sms' }))
          .sent,
      ).toBe(3);
      expect(await messageStates(app.sql, ids)).toEqual({ sent: 3 });
      const stored =
        await app.sql`select to_address, body from outbox_messages where company_id = ${other.id} order by id`;
      expect(stored).toHaveLength(3);
      // sends within a batch run concurrently, so the outbox order is not the message order
      const greetings = stored
        .map((row) => String(row.body).match(/^Hi (Ann\d), this is Harbor Dental/)?.[1])
        .sort();
      expect(greetings).toEqual(['Ann0', 'Ann1', 'Ann2']);
    } finally {
      await workers.stop();
    }
  });
});
