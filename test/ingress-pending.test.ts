import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { loadCompanyContext, loadMessages } from '../lib/messages/load';
import { reconcile } from '../lib/dispatch/reconcile';
import { recordOutcomes } from '../lib/dispatch/record';
import { applyPendingEvents } from '../lib/ingress/pending-events';
import { INGRESS_PATHS } from '../lib/names';
import type { Channel } from '../lib/providers/types';
import { startTwilioStandin } from './standins/twilio';
import { twilioSmsProvider, type TestCompany } from './support/dispatch';
import { eventually } from './support/harness';
import { smsStatus, startTestIngress, updatesOf, type TestIngress } from './support/ingress';
import { useIngressEnv, type IngressEnv } from './support/ingress-env';
import { addNewYorker, messageRow, type Person } from './support/reminders';

let app: App;
let ingress: TestIngress;
let company: TestCompany;
let env: IngressEnv;

// the env's ingress is the one closed at the end, and the last test starts a new one
useIngressEnv((e) => {
  env = e;
  ({ app, ingress, company } = e);
});

const person = () => addNewYorker(app.sql, company.id);

/** A message a dispatcher has claimed and handed to Twilio, whose answer (the sid) is not written yet. */
async function claimedMessage(
  p: Person,
  channel: Channel,
): Promise<{ id: number; sid: string; token: string }> {
  const token = `test-dispatch-${randomUUID()}`;
  const [row] = await app.sql<{ id: number }[]>`
    insert into messages (company_id, contact_id, appointment_id, channel, template_name, plan_step, contact_at, region,
                          state, provider, provider_account, to_address, from_address, credits, sending_at, dispatch_token,
                          claimed_by)
    values (${company.id}, ${p.contactId}, ${p.appointmentId}, ${channel}, 'appointment_reminder', ${`step-${token}`},
            now() - interval '1 minute', 'northeast', 'sending', 'twilio', 'test', ${p.phone}, '+16175550199', 1, now(), ${token},
            ${token})
    returning id`;
  return { id: row!.id, sid: `${channel === 'voice' ? 'CA' : 'SM'}${randomUUID().replace(/-/g, '')}`, token };
}

/** What dispatch writes when Twilio's answer comes back: its own code, not a copy. */
async function recordSent(m: { id: number; sid: string; token: string }, channel: Channel): Promise<void> {
  const scope = {
    company: await loadCompanyContext(app.sql, company.id, channel),
    channel,
    token: m.token,
    lease: { holder: m.token },
  };
  await recordOutcomes(app.sql, scope, [{ kind: 'sent', id: m.id, result: { providerMessageId: m.sid } }]);
}

const waiting = async (sid: string) =>
  (
    await app.sql<{ n: number }[]>`
    select count(*)::int as n from provider_events_pending where provider_message_id = ${sid}`
  )[0]!.n;

describe('a status callback that overtakes dispatch', () => {
  it('is kept, and applied once when dispatch records the id: delivered before sent ends delivered', async () => {
    const m = await claimedMessage(await person(), 'sms');
    for (const status of ['delivered', 'delivered', 'sent']) {
      const r = await ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(m.sid, status));
      expect(r.status).toBe(200);
    }
    // nothing applied yet: the message does not know its sid; the repeat is kept once
    expect(await waiting(m.sid)).toBe(2);
    expect(await updatesOf(app.sql, m.id)).toEqual([]);
    expect((await messageRow(app.sql, m.id)).state).toBe('sending');

    await recordSent(m, 'sms');
    // the ingress hears of the recorded id and applies what waited, in the order it arrived
    await eventually(async () => ((await waiting(m.sid)) === 0 ? true : undefined), 30_000);
    expect(await updatesOf(app.sql, m.id)).toEqual([
      { provider: 'twilio', event_type: 'sms.delivered', status: 'delivered' },
      { provider: 'twilio', event_type: 'sms.sent', status: 'sent' },
    ]);
    const [row] = await app.sql`select state, delivered_at from messages where id = ${m.id}`;
    expect(row!.state).toBe('delivered');
    expect(row!.delivered_at).not.toBeNull();

    // the provider sends it once more, now that the message is known: recorded once all the same
    await ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(m.sid, 'delivered'));
    expect(await updatesOf(app.sql, m.id)).toHaveLength(2);
    expect(await waiting(m.sid)).toBe(0);
  });

  it('keeps our own id when it carries one, so a reconciliation finds the vendor id by it', async () => {
    const m = await claimedMessage(await person(), 'sms');
    const [row] = await app.sql<{ uuid: string }[]>`select uuid::text from messages where id = ${m.id}`;
    const uuid = row!.uuid;
    const r = await ingress.post(`${INGRESS_PATHS.twilioSmsStatus}?m=${uuid}`, smsStatus(m.sid, 'sent'));
    expect(r.status).toBe(200);
    // the vendor's lists say nothing (a stand-in that never saw it): the callback alone tells
    const standin = await startTwilioStandin();
    try {
      const provider = twilioSmsProvider('test', standin);
      const [message] = await loadMessages(app.sql, company.id, 'sms', [m.id]);
      const settled = await reconcile([message!], {
        sql: app.sql,
        provider,
        companyId: company.id,
        expectedBody: () => undefined,
        onLookupFailure: 'leave',
      });
      expect(settled.outcomes).toEqual([
        { kind: 'sent', id: m.id, result: { providerMessageId: m.sid }, reconciled: true },
      ]);
    } finally {
      await standin.close();
    }
  });

  it('keeps the call record in step once the call sid is known', async () => {
    const m = await claimedMessage(await person(), 'voice');
    const r = await ingress.post(INGRESS_PATHS.twilioVoiceStatus, {
      CallSid: m.sid,
      CallStatus: 'completed',
      CallDuration: '31',
      SequenceNumber: '3',
    });
    expect(r.status).toBe(200);
    await recordSent(m, 'voice');
    await eventually(
      async () => ((await messageRow(app.sql, m.id)).state === 'delivered' ? true : undefined),
      30_000,
    );
    const [call] = await app.sql`select status, duration_seconds from calls where message_id = ${m.id}`;
    expect(call).toMatchObject({ status: 'completed', duration_seconds: 31 });
    const [row] = await app.sql`select duration_seconds from messages where id = ${m.id}`;
    expect(row!.duration_seconds).toBe(31);
  });

  it('is applied exactly once when several sweeps race for it', async () => {
    const messages = await Promise.all([1, 2, 3].map(async () => claimedMessage(await person(), 'sms')));
    for (const m of messages)
      await ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(m.sid, 'delivered'));
    await Promise.all(messages.map((m) => recordSent(m, 'sms')));
    // the ingress's own notice-driven sweep races these three
    await Promise.all([1, 2, 3].map(() => applyPendingEvents(app.sql)));
    for (const m of messages) {
      await eventually(async () => ((await waiting(m.sid)) === 0 ? true : undefined), 30_000);
      expect(await updatesOf(app.sql, m.id)).toEqual([
        { provider: 'twilio', event_type: 'sms.delivered', status: 'delivered' },
      ]);
      expect((await messageRow(app.sql, m.id)).state).toBe('delivered');
    }
  });

  it('drops an event that no message claimed within a week, and keeps a younger one', async () => {
    const old = `SM${randomUUID().replace(/-/g, '')}`;
    const young = `SM${randomUUID().replace(/-/g, '')}`;
    for (const sid of [old, young])
      expect((await ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(sid, 'delivered'))).status).toBe(
        200,
      );
    await app.sql`update provider_events_pending set received_at = now() - interval '8 days' where provider_message_id = ${old}`;
    // (the ingress's own sweep may get there first: either way it is gone)
    await applyPendingEvents(app.sql);
    expect(await waiting(old)).toBe(0);
    expect(await waiting(young)).toBe(1);
  });

  it('waits while the ingress is down, and is applied by the sweep when it starts again', async () => {
    const m = await claimedMessage(await person(), 'sms');
    await ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(m.sid, 'delivered'));
    await ingress.close();
    await recordSent(m, 'sms');
    // nobody listened to the notice: the event still waits
    expect(await waiting(m.sid)).toBe(1);
    expect((await messageRow(app.sql, m.id)).state).toBe('sent');
    ingress = env.ingress = await startTestIngress(app);
    await eventually(
      async () => ((await messageRow(app.sql, m.id)).state === 'delivered' ? true : undefined),
      30_000,
    );
    expect(await waiting(m.sid)).toBe(0);
    expect(await updatesOf(app.sql, m.id)).toHaveLength(1);
  });
});
