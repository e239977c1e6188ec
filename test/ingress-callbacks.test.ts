import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { unsubscribeToken } from '../lib/unsubscribe-token';
import { INGRESS_PATHS } from '../lib/names';
import type { TestCompany } from './support/dispatch';
import {
  SNS_CERT_URL,
  SNS_TOPIC,
  sentMessage,
  signedSns,
  smsStatus,
  UNSUBSCRIBE_SECRET,
  updatesOf,
  type TestIngress,
} from './support/ingress';
import { useIngressEnv } from './support/ingress-env';
import { addNewYorker, messageRow, planTouch } from './support/reminders';

let app: App;
let ingress: TestIngress;
let company: TestCompany;
const inADay = () => new Date(Date.now() + 86_400_000);
const person = () => addNewYorker(app.sql, company.id, { email: `ann${Date.now()}@example.com` });

useIngressEnv((env) => ({ app, ingress, company } = env));

describe('Twilio status callbacks', () => {
  it('refuses a forged or unsigned callback with 403 and writes nothing', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, { channel: 'sms' });
    const forged = await ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(m.sid, 'delivered'), {
      token: 'not-the-account-token',
    });
    expect(forged.status).toBe(403);
    const unsigned = await ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(m.sid, 'delivered'), {
      signature: null,
    });
    expect(unsigned.status).toBe(403);
    // a valid signature for other parameters does not carry over
    const replayed = await ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(m.sid, 'undelivered'), {
      signature: (await import('../lib/ingress/twilio-signature')).twilioSignature(
        'test-auth-token-0123456789abcdef',
        `${ingress.url}${INGRESS_PATHS.twilioSmsStatus}`,
        smsStatus(m.sid, 'delivered'),
      ),
    });
    expect(replayed.status).toBe(403);
    expect(await updatesOf(app.sql, m.id)).toEqual([]);
    expect((await messageRow(app.sql, m.id)).state).toBe('sent');
  });

  it('applies a callback delivered twice once', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, { channel: 'sms' });
    for (let i = 0; i < 2; i++)
      expect((await ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(m.sid, 'delivered'))).status).toBe(
        200,
      );
    expect(await updatesOf(app.sql, m.id)).toEqual([
      { provider: 'twilio', event_type: 'sms.delivered', status: 'delivered' },
    ]);
    const row = await app.sql`select state, delivered_at from messages where id = ${m.id}`;
    expect(row[0]!.state).toBe('delivered');
    // a late 'sent' after 'delivered' is recorded but never moves the message back
    await ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(m.sid, 'sent'));
    expect((await messageRow(app.sql, m.id)).state).toBe('delivered');
  });

  it('marks a failed text with the carrier code, and 21610 as an opt-out', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, { channel: 'sms' });
    const pending = await planTouch(app.sql, company.id, p, {
      channel: 'sms',
      contactAt: inADay(),
      step: 'later',
      region: 'northeast',
    });
    await ingress.post(
      INGRESS_PATHS.twilioSmsStatus,
      smsStatus(m.sid, 'undelivered', { ErrorCode: '21610' }),
    );
    expect(await messageRow(app.sql, m.id)).toMatchObject({
      state: 'undelivered',
      status_description: 'sms.undelivered: provider error 21610',
    });
    const [contact] = await app.sql`select do_not_sms from contacts where id = ${p.contactId}`;
    expect(contact!.do_not_sms).toBe(true);
    expect((await messageRow(app.sql, pending)).state).toBe('skipped');
  });

  it('keeps the call record in step with voice status callbacks', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, { channel: 'voice' });
    for (const [status, seq] of [
      ['ringing', '1'],
      ['in-progress', '2'],
      ['completed', '3'],
    ] as const) {
      const params: Record<string, string> = { CallSid: m.sid, CallStatus: status, SequenceNumber: seq };
      if (status === 'completed') params.CallDuration = '27';
      expect((await ingress.post(INGRESS_PATHS.twilioVoiceStatus, params)).status).toBe(200);
    }
    const [call] =
      await app.sql`select status, duration_seconds, answered_at, ended_at from calls where message_id = ${m.id}`;
    expect(call).toMatchObject({ status: 'completed', duration_seconds: 27 });
    expect(call!.answered_at).not.toBeNull();
    expect(await messageRow(app.sql, m.id)).toMatchObject({ state: 'delivered' });
    const events =
      await app.sql`select to_status from call_events where call_id = (select id from calls where message_id = ${m.id}) order by id`;
    expect(events.map((e) => e.to_status)).toEqual(['ringing', 'in-progress', 'completed']);
  });

  it('answers the key pressed in a call: 1 confirms, with TwiML the caller hears', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, { channel: 'voice', step: 'voice-1d' });
    const later = await planTouch(app.sql, company.id, p, {
      channel: 'sms',
      contactAt: inADay(),
      step: 'sms-2h',
      region: 'northeast',
    });
    const r = await ingress.post(INGRESS_PATHS.twilioVoiceGather, {
      CallSid: m.sid,
      Digits: '1',
      CallStatus: 'in-progress',
    });
    expect(r.status).toBe(200);
    expect(r.body).toContain(
      '<Say language="en-US">Thank you. Your appointment is confirmed.</Say><Hangup/>',
    );
    expect(await messageRow(app.sql, m.id)).toMatchObject({ contact_status: 'confirmed', raw_response: '1' });
    const [appointment] = await app.sql`select status from appointments where id = ${p.appointmentId}`;
    expect(appointment!.status).toBe('confirmed');
    expect(await messageRow(app.sql, later)).toMatchObject({
      state: 'cancelled',
      status_description: 'the reminder sequence stopped: the person confirmed',
    });
    const [enrolment] =
      await app.sql`select status from reminder_enrollments where appointment_id = ${p.appointmentId}`;
    expect(enrolment!.status).toBe('completed');
  });
});

describe('callbacks that name their message by our own id', () => {
  /** Two calls to one family phone that reconciliation found both placed, without telling which sid is whose. */
  async function sentWithoutSids() {
    const p = await person();
    const calls = [];
    for (const step of ['voice-a', 'voice-b']) {
      const m = await sentMessage(app.sql, company.id, p, { channel: 'voice', step });
      await app.sql`delete from calls where message_id = ${m.id}`;
      await app.sql`update messages set provider_message_id = null where id = ${m.id}`;
      calls.push(m);
    }
    return { p, calls };
  }

  it('gives a call its sid from the status callback that names it, with its call record', async () => {
    const { calls } = await sentWithoutSids();
    const [a, b] = calls;
    const r = await ingress.post(`${INGRESS_PATHS.twilioVoiceStatus}?m=${b!.uuid}`, {
      CallSid: b!.sid,
      CallStatus: 'ringing',
      SequenceNumber: '1',
    });
    expect(r.status).toBe(200);
    const rows = await app.sql<{ id: number; provider_message_id: string | null }[]>`
      select id, provider_message_id from messages where id in ${app.sql([a!.id, b!.id])} order by id`;
    expect(rows).toEqual([
      { id: a!.id, provider_message_id: null },
      { id: b!.id, provider_message_id: b!.sid },
    ]);
    const [call] = await app.sql`select status, provider_call_sid from calls where message_id = ${b!.id}`;
    expect(call).toEqual({ status: 'ringing', provider_call_sid: b!.sid });
    expect(await updatesOf(app.sql, b!.id)).toEqual([
      { provider: 'twilio', event_type: 'voice.ringing', status: 'sent' },
    ]);
  });

  it('applies the key pressed in a call to the message the gather action names', async () => {
    const { p, calls } = await sentWithoutSids();
    const r = await ingress.post(`${INGRESS_PATHS.twilioVoiceGather}?m=${calls[1]!.uuid}`, {
      CallSid: calls[1]!.sid,
      Digits: '2',
      CallStatus: 'in-progress',
    });
    expect(r.status).toBe(200);
    expect(await messageRow(app.sql, calls[1]!.id)).toMatchObject({ contact_status: 'cancelled' });
    expect(await messageRow(app.sql, calls[0]!.id)).toMatchObject({ contact_status: null });
    const [appointment] = await app.sql`select status from appointments where id = ${p.appointmentId}`;
    expect(appointment!.status).toBe('cancelled');
  });
});

const postSns = (body: unknown) => ingress.postSns(body);

describe('SES events through SNS', () => {
  const bounce = (messageId: string) => ({
    Type: 'Notification' as const,
    MessageId: `sns-${messageId}`,
    TopicArn: SNS_TOPIC,
    Timestamp: new Date().toISOString(),
    Message: JSON.stringify({
      eventType: 'Bounce',
      mail: { messageId },
      bounce: { bounceType: 'Permanent', feedbackId: `fb-${messageId}` },
    }),
  });

  it('turns a signed permanent bounce into do_not_email, once', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, {
      channel: 'email',
      provider: 'ses',
      to: 'ann@example.com',
    });
    const message = signedSns(bounce(m.sid));
    expect(await postSns(message)).toBe(200);
    expect(await postSns(message)).toBe(200);
    expect(await updatesOf(app.sql, m.id)).toEqual([
      { provider: 'ses', event_type: 'email.bounce', status: 'undelivered' },
    ]);
    const [contact] = await app.sql`select do_not_email, do_not_sms from contacts where id = ${p.contactId}`;
    expect(contact).toMatchObject({ do_not_email: true, do_not_sms: false });
  });

  it('refuses a tampered, unsigned or foreign-topic SNS message and writes nothing', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, {
      channel: 'email',
      provider: 'ses',
      to: 'ann@example.com',
    });
    const tampered = { ...signedSns(bounce(m.sid)), MessageId: 'changed' };
    expect(await postSns(tampered)).toBe(403);
    expect(
      await postSns({
        ...bounce(m.sid),
        Signature: 'x',
        SignatureVersion: '2',
        SigningCertURL: SNS_CERT_URL,
      }),
    ).toBe(403);
    expect(await postSns(signedSns({ ...bounce(m.sid), TopicArn: 'arn:aws:sns:us-east-1:999:other' }))).toBe(
      403,
    );
    expect(
      await postSns({ ...signedSns(bounce(m.sid)), SigningCertURL: 'https://evil.example.com/cert.pem' }),
    ).toBe(403);
    expect(await updatesOf(app.sql, m.id)).toEqual([]);
  });

  it('confirms its subscription to the topic', async () => {
    const url = 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc';
    const status = await postSns(
      signedSns({
        Type: 'SubscriptionConfirmation',
        MessageId: 'sub-1',
        TopicArn: SNS_TOPIC,
        Timestamp: new Date().toISOString(),
        Message: 'confirm',
        SubscribeURL: url,
        Token: 'abc',
      }),
    );
    expect(status).toBe(200);
    expect(ingress.fetched).toContain(url);
  });
});

describe('email unsubscribe', () => {
  it('shows a button for the link and unsubscribes on the one-click POST; a forged token is refused', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, { channel: 'email', provider: 'ses' });
    const pending = await planTouch(app.sql, company.id, p, {
      channel: 'email',
      contactAt: inADay(),
      step: 'email-later',
      region: 'northeast',
    });
    const link = `${ingress.url}${INGRESS_PATHS.emailUnsubscribe}/${unsubscribeToken(m.uuid, UNSUBSCRIBE_SECRET)}`;

    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post"');
    expect(
      (await app.sql`select do_not_email from contacts where id = ${p.contactId}`)[0]!.do_not_email,
    ).toBe(false);

    const forged = await fetch(
      `${ingress.url}${INGRESS_PATHS.emailUnsubscribe}/${unsubscribeToken(m.uuid, 'guessed')}`,
      { method: 'POST' },
    );
    expect(forged.status).toBe(404);
    const bare = await fetch(`${ingress.url}${INGRESS_PATHS.emailUnsubscribe}/${m.uuid}`, { method: 'POST' });
    expect(bare.status).toBe(404);
    expect(
      (await app.sql`select do_not_email from contacts where id = ${p.contactId}`)[0]!.do_not_email,
    ).toBe(false);

    const done = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(done.status).toBe(200);
    expect(
      (await app.sql`select do_not_email from contacts where id = ${p.contactId}`)[0]!.do_not_email,
    ).toBe(true);
    expect(await messageRow(app.sql, pending)).toMatchObject({ state: 'skipped' });
    expect(await messageRow(app.sql, m.id)).toMatchObject({
      contact_status: 'opted_out',
      raw_response: 'one-click unsubscribe (List-Unsubscribe-Post)',
    });
  });
});
