import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { archiveMessageBatch } from '../lib/archive/messages';
import { unsubscribeToken } from '../lib/unsubscribe-token';
import { INGRESS_PATHS } from '../lib/names';
import type { TestCompany } from './support/dispatch';
import {
  SNS_TOPIC,
  sentMessage,
  signedSns,
  smsStatus,
  UNSUBSCRIBE_SECRET,
  type TestIngress,
} from './support/ingress';
import { useIngressEnv } from './support/ingress-env';
import { addNewYorker, messageRow, planTouch } from './support/reminders';

let app: App;
let ingress: TestIngress;
let company: TestCompany;
const SENDER = '+16175550199';
const inADay = () => new Date(Date.now() + 86_400_000);

useIngressEnv((env) => ({ app, ingress, company } = env));

const person = () =>
  addNewYorker(app.sql, company.id, { email: `ann${randomUUID().slice(0, 8)}@example.com` });

/** Delivered, then moved to history by the archive's own batch move. */
async function archive(messageId: number): Promise<void> {
  await app.sql`update messages set state = 'delivered', delivered_at = now() where id = ${messageId} and state = 'sent'`;
  const moved = await archiveMessageBatch(
    app.sql,
    { companyId: company.id, messageIds: [messageId] },
    async () => {},
  );
  expect(moved.messages).toBe(1);
  expect(await app.sql`select 1 from messages where id = ${messageId}`).toHaveLength(0);
}

const historyRow = async (id: number) =>
  (
    await app.sql<
      {
        state: string;
        contact_status: string | null;
        raw_response: string | null;
        last_event_at: Date | null;
      }[]
    >`
      select state, contact_status, raw_response, last_event_at from messages_history where id = ${id}`
  )[0]!;
const historyUpdates = (id: number) =>
  app.sql<{ provider: string; event_type: string; status: string | null }[]>`
    select provider, event_type, status from message_updates_history where message_id = ${id} order by id`;
const contact = async (id: number) =>
  (
    await app.sql<{ do_not_sms: boolean; do_not_email: boolean }[]>`
      select do_not_sms, do_not_email from contacts where id = ${id}`
  )[0]!;
const waitingEvents = async (sid: string) =>
  (
    await app.sql<
      { n: number }[]
    >`select count(*)::int as n from provider_events_pending where provider_message_id = ${sid}`
  )[0]!.n;

describe('callbacks for archived messages', () => {
  it('records a late Twilio status in the history tables once, and still applies its opt-out to the contact', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, { channel: 'sms', from: SENDER });
    expect((await ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(m.sid, 'delivered'))).status).toBe(
      200,
    );
    await archive(m.id);
    const later = await planTouch(app.sql, company.id, p, {
      channel: 'sms',
      contactAt: inADay(),
      step: 'sms-later',
      region: 'northeast',
    });
    const before = (await historyRow(m.id)).last_event_at;

    // Twilio repeats the delivery it already told us of: the history has it, so nothing is added
    expect((await ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(m.sid, 'delivered'))).status).toBe(
      200,
    );
    expect(await historyUpdates(m.id)).toEqual([
      { provider: 'twilio', event_type: 'sms.delivered', status: 'delivered' },
    ]);
    expect((await historyRow(m.id)).last_event_at).toEqual(before);

    // a new event: recorded in history (twice sent, once kept), the state machine still rules the row
    for (let i = 0; i < 2; i++)
      await ingress.post(
        INGRESS_PATHS.twilioSmsStatus,
        smsStatus(m.sid, 'undelivered', { ErrorCode: '21610' }),
      );
    expect(await historyUpdates(m.id)).toEqual([
      { provider: 'twilio', event_type: 'sms.delivered', status: 'delivered' },
      { provider: 'twilio', event_type: 'sms.undelivered', status: 'undelivered' },
    ]);
    expect((await historyRow(m.id)).state).toBe('delivered');
    // the person asked the carrier to stop: that outlives the message
    expect((await contact(p.contactId)).do_not_sms).toBe(true);
    expect(await messageRow(app.sql, later)).toMatchObject({ state: 'skipped' });
    expect(await waitingEvents(m.sid)).toBe(0);
    // nothing came back to the live tables
    expect(await app.sql`select 1 from message_updates where message_id = ${m.id}`).toHaveLength(0);
  });

  it('applies an SES bounce of an archived email: do_not_email, recorded in history', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, {
      channel: 'email',
      provider: 'ses',
      to: 'ann@example.com',
    });
    await archive(m.id);
    const bounce = signedSns({
      Type: 'Notification',
      MessageId: `sns-${m.sid}`,
      TopicArn: SNS_TOPIC,
      Timestamp: new Date().toISOString(),
      Message: JSON.stringify({
        eventType: 'Bounce',
        mail: { messageId: m.sid },
        bounce: { bounceType: 'Permanent', feedbackId: `fb-${m.sid}` },
      }),
    });
    expect(await ingress.postSns(bounce)).toBe(200);
    expect(await ingress.postSns(bounce)).toBe(200);
    expect(await historyUpdates(m.id)).toEqual([
      { provider: 'ses', event_type: 'email.bounce', status: 'undelivered' },
    ]);
    expect(await contact(p.contactId)).toMatchObject({ do_not_email: true, do_not_sms: false });
    expect(await waitingEvents(m.sid)).toBe(0);
  });

  it('honours STOP sent in answer to an archived text, and keeps the answer on its history row', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, { channel: 'sms', from: SENDER });
    await archive(m.id);
    const later = await planTouch(app.sql, company.id, p, {
      channel: 'sms',
      contactAt: inADay(),
      step: 'sms-2h',
      region: 'northeast',
    });
    const sid = `SM${randomUUID().replace(/-/g, '')}`;
    const r = await ingress.post(INGRESS_PATHS.twilioSmsInbound, {
      MessageSid: sid,
      From: p.phone,
      To: SENDER,
      Body: 'STOP',
    });
    expect(r.status).toBe(200);
    expect((await contact(p.contactId)).do_not_sms).toBe(true);
    expect(await messageRow(app.sql, later)).toMatchObject({ state: 'skipped' });
    expect(await historyRow(m.id)).toMatchObject({ contact_status: 'opted_out', raw_response: 'STOP' });
    const [inbound] = await app.sql`
      select company_id, contact_id, message_id, intent from inbound_messages where provider_event_id = ${sid}`;
    expect(inbound).toMatchObject({
      company_id: company.id,
      contact_id: p.contactId,
      message_id: null,
      intent: 'opt_out',
    });
  });

  it('confirms from an archived reminder only while the appointment is still ahead', async () => {
    const ahead = await person();
    const m = await sentMessage(app.sql, company.id, ahead, { channel: 'sms', from: SENDER });
    await archive(m.id);
    await ingress.post(INGRESS_PATHS.twilioSmsInbound, {
      MessageSid: `SM${randomUUID()}`,
      From: ahead.phone,
      To: SENDER,
      Body: 'C',
    });
    expect(
      (await app.sql`select status from appointments where id = ${ahead.appointmentId}`)[0]!.status,
    ).toBe('confirmed');

    const past = await person();
    await app.sql`update appointments set starts_at = now() - interval '30 days' where id = ${past.appointmentId}`;
    const old = await sentMessage(app.sql, company.id, past, { channel: 'sms', from: SENDER });
    await archive(old.id);
    await ingress.post(INGRESS_PATHS.twilioSmsInbound, {
      MessageSid: `SM${randomUUID()}`,
      From: past.phone,
      To: SENDER,
      Body: 'C',
    });
    expect((await app.sql`select status from appointments where id = ${past.appointmentId}`)[0]!.status).toBe(
      'scheduled',
    );
    expect(await historyRow(old.id)).toMatchObject({ contact_status: 'confirmed', raw_response: 'C' });
  });

  it("unsubscribes from an archived email's link", async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, { channel: 'email', provider: 'ses' });
    await archive(m.id);
    const link = `${ingress.url}${INGRESS_PATHS.emailUnsubscribe}/${unsubscribeToken(m.uuid, UNSUBSCRIBE_SECRET)}`;
    expect((await fetch(link)).status).toBe(200);
    const done = await fetch(link, { method: 'POST' });
    expect(done.status).toBe(200);
    expect((await contact(p.contactId)).do_not_email).toBe(true);
    expect(await historyRow(m.id)).toMatchObject({
      contact_status: 'opted_out',
      raw_response: 'unsubscribe link',
    });
  });
});
