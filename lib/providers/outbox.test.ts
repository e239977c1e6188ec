import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../db';
import { createOutboxEmail, createOutboxSms, createOutboxVoice, listOutbox } from './outbox';

let sql: Sql;
let companyId: number;
beforeAll(async () => {
  sql = createSql({ url: process.env.DATABASE_URL!, actor: 'test' });
  const alias = `outbox-${randomUUID().slice(0, 8)}`;
  const [company] = await sql<
    { id: number }[]
  >`insert into companies (alias, name) values (${alias}, 'Outbox Test') returning id`;
  companyId = company!.id;
});
afterAll(() => sql.end());

describe('the local outbox', () => {
  it('stores a text once per message, and finds it again by the message uuid', async () => {
    const sms = createOutboxSms(sql, 'outbox-sms');
    const messageUuid = randomUUID();
    const input = {
      messageUuid,
      to: '+16175550123',
      from: '+16175550199',
      body: 'Hi Ann',
      segments: 1,
      companyId,
    };
    const first = await sms.send(input);
    const again = await sms.send(input);
    expect(first.providerMessageId).toMatch(/^OB[0-9a-f]{32}$/);
    expect(again.providerMessageId).toBe(first.providerMessageId);
    const rows =
      await sql`select channel, to_address, from_address, body, segments, account_key from outbox_messages where message_uuid = ${messageUuid}`;
    expect(rows).toEqual([
      {
        channel: 'sms',
        to_address: '+16175550123',
        from_address: '+16175550199',
        body: 'Hi Ann',
        segments: 1,
        account_key: 'outbox-sms',
      },
    ]);
    const window = { sentAfter: new Date(0), sentBefore: new Date() };
    expect(await sms.lookup!({ messageUuid, to: '+16175550123', ...window })).toMatchObject([
      { providerMessageId: first.providerMessageId },
    ]);
    expect(await sms.lookup!({ messageUuid: randomUUID(), to: '+16175550123', ...window })).toEqual([]);
  });

  it('keeps the TwiML of a call and the parts and headers of an email', async () => {
    const voiceUuid = randomUUID();
    await createOutboxVoice(sql, 'outbox-voice').send({
      messageUuid: voiceUuid,
      to: '+16175550123',
      from: '+16175550199',
      twiml: '<Response><Say>Hello</Say></Response>',
      spokenText: 'Hello',
      companyId,
    });
    const emailUuid = randomUUID();
    await createOutboxEmail(sql, 'outbox-email').send({
      messageUuid: emailUuid,
      to: 'ann@example.com',
      from: 'reminders@clinic.example',
      fromName: 'Clinic',
      subject: 'Reminder',
      html: '<p>Hi</p>',
      text: 'Hi',
      headers: [{ name: 'List-Unsubscribe', value: '<mailto:u@clinic.example>' }],
      companyId,
    });
    const shown = await listOutbox(sql, { companyId, limit: 10 });
    expect(shown[0]).toMatchObject({
      message_uuid: emailUuid,
      channel: 'email',
      from_address: 'Clinic <reminders@clinic.example>',
      subject: 'Reminder',
      body: 'Hi',
      html_body: '<p>Hi</p>',
      headers: [{ name: 'List-Unsubscribe', value: '<mailto:u@clinic.example>' }],
    });
    expect(shown[1]).toMatchObject({
      message_uuid: voiceUuid,
      channel: 'voice',
      body: 'Hello',
      twiml: '<Response><Say>Hello</Say></Response>',
    });
  });
});
