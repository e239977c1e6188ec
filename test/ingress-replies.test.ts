import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { INGRESS_PATHS } from '../lib/names';
import { createTestCompany, type TestCompany } from './support/dispatch';
import { sentMessage, type TestIngress } from './support/ingress';
import { useIngressEnv } from './support/ingress-env';
import { addNewYorker, messageRow, planTouch, type Person } from './support/reminders';

let app: App;
let ingress: TestIngress;
let company: TestCompany;
const SENDER = '+16175550199';
const inADay = () => new Date(Date.now() + 86_400_000);

useIngressEnv((env) => ({ app, ingress, company } = env));

const person = (companyId = company.id) => addNewYorker(app.sql, companyId);

function reply(p: Person, body: string, sid = `SM${randomUUID().replace(/-/g, '')}`) {
  return ingress.post(INGRESS_PATHS.twilioSmsInbound, {
    MessageSid: sid,
    SmsSid: sid,
    From: p.phone,
    To: SENDER,
    Body: body,
    NumMedia: '0',
  });
}

async function contact(id: number) {
  const [row] = await app.sql<{ do_not_sms: boolean; do_not_call: boolean; do_not_email: boolean }[]>`
    select do_not_sms, do_not_call, do_not_email from contacts where id = ${id}`;
  return row!;
}

const appointmentStatus = async (id: number) =>
  (await app.sql`select status from appointments where id = ${id}`)[0]!.status;
const enrolment = async (appointmentId: number) =>
  (
    await app.sql`select status, status_reason from reminder_enrollments where appointment_id = ${appointmentId}`
  )[0];

describe('replies to a reminder text', () => {
  it('STOP opts the person out of texts at once and stops their sequence, with reasons', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, { channel: 'sms', step: 'sms-2d', from: SENDER });
    const nextText = await planTouch(app.sql, company.id, p, {
      channel: 'sms',
      contactAt: inADay(),
      step: 'sms-2h',
      region: 'northeast',
    });
    const call = await planTouch(app.sql, company.id, p, {
      channel: 'voice',
      contactAt: inADay(),
      step: 'voice-1d',
      region: 'northeast',
    });

    const r = await reply(p, 'Stop');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<Response/>');
    expect(await contact(p.contactId)).toEqual({ do_not_sms: true, do_not_call: false, do_not_email: false });
    expect(await messageRow(app.sql, m.id)).toMatchObject({
      contact_status: 'opted_out',
      raw_response: 'Stop',
    });
    expect(await messageRow(app.sql, nextText)).toMatchObject({
      state: 'skipped',
      status_description: expect.stringMatching(/opted out.*replied STOP/),
    });
    expect(await messageRow(app.sql, call)).toMatchObject({
      state: 'cancelled',
      status_description: expect.stringMatching(/sequence stopped: the person opted out/),
    });
    expect(await enrolment(p.appointmentId)).toMatchObject({ status: 'opted_out' });
    // the appointment itself is untouched: STOP is about texts, not the visit
    expect(await appointmentStatus(p.appointmentId)).toBe('scheduled');
    const events = await app.sql`select event_type from message_updates where message_id = ${nextText}`;
    expect(events.map((e) => e.event_type)).toEqual(['skipped']);
  });

  it('C confirms the appointment and ends the sequence; the same webhook twice is applied once', async () => {
    const p = await person();
    const m = await sentMessage(app.sql, company.id, p, { channel: 'sms', step: 'sms-2d', from: SENDER });
    const later = await planTouch(app.sql, company.id, p, {
      channel: 'sms',
      contactAt: inADay(),
      step: 'sms-2h',
      region: 'northeast',
    });
    const sid = `SM${randomUUID().replace(/-/g, '')}`;
    await reply(p, 'c', sid);
    await reply(p, 'c', sid);
    expect(await messageRow(app.sql, m.id)).toMatchObject({ contact_status: 'confirmed', raw_response: 'c' });
    expect(await appointmentStatus(p.appointmentId)).toBe('confirmed');
    expect(await enrolment(p.appointmentId)).toMatchObject({
      status: 'completed',
      status_reason: 'the person confirmed',
    });
    expect(await messageRow(app.sql, later)).toMatchObject({ state: 'cancelled' });
    const [stored] =
      await app.sql`select count(*)::int as n from inbound_messages where provider_event_id = ${sid}`;
    expect(stored!.n).toBe(1);
  });

  it('2 cancels the appointment, R asks to reschedule, anything else is kept as the raw response', async () => {
    const a = await person();
    const ma = await sentMessage(app.sql, company.id, a, { channel: 'sms', from: SENDER });
    await reply(a, '2');
    expect(await appointmentStatus(a.appointmentId)).toBe('cancelled');
    expect(await messageRow(app.sql, ma.id)).toMatchObject({ contact_status: 'cancelled' });

    const b = await person();
    await sentMessage(app.sql, company.id, b, { channel: 'sms', from: SENDER });
    await reply(b, 'R');
    expect(await appointmentStatus(b.appointmentId)).toBe('reschedule_requested');
    expect(await enrolment(b.appointmentId)).toMatchObject({
      status: 'cancelled',
      status_reason: 'the person asked to reschedule',
    });

    const c = await person();
    const mc = await sentMessage(app.sql, company.id, c, { channel: 'sms', from: SENDER });
    await reply(c, 'Can I come at 4 instead?');
    expect(await messageRow(app.sql, mc.id)).toMatchObject({
      contact_status: 'other',
      raw_response: 'Can I come at 4 instead?',
    });
    expect(await appointmentStatus(c.appointmentId)).toBe('scheduled');
    expect(await enrolment(c.appointmentId)).toMatchObject({ status: 'active' });

    const summary = await app.sql`
      select contact_status, messages from message_reply_summary where company_id = ${company.id} order by contact_status`;
    expect(summary.length).toBeGreaterThanOrEqual(3);
  });

  it('CANCEL is a carrier opt-out, not an appointment cancellation; START opts back in', async () => {
    const p = await person();
    await sentMessage(app.sql, company.id, p, { channel: 'sms', from: SENDER });
    await reply(p, 'CANCEL');
    expect((await contact(p.contactId)).do_not_sms).toBe(true);
    expect(await appointmentStatus(p.appointmentId)).toBe('scheduled');
    await reply(p, 'START');
    expect((await contact(p.contactId)).do_not_sms).toBe(false);
  });

  it('STOP reaches every contact of the company on that phone; STOPALL every company that texted it from the number', async () => {
    const other = await createTestCompany(app.sql, { credits: 10 });
    const p = await person();
    await sentMessage(app.sql, company.id, p, {
      channel: 'sms',
      from: SENDER,
      sentAt: new Date(Date.now() - 60_000),
    });
    // the same phone at another company, texted more recently from the same number
    const [twin] = await app.sql<{ id: number }[]>`
      insert into contacts (company_id, dedupe_key, first_name, last_name, phone_e164, region)
      values (${other.id}, ${randomUUID()}, 'Ann', 'Lee', ${p.phone}, 'northeast') returning id`;
    const [twinAppointment] = await app.sql<{ id: number }[]>`
      insert into appointments (company_id, contact_id, dedupe_key, starts_at) values (${other.id}, ${twin!.id}, ${randomUUID()}, ${inADay()}) returning id`;
    await sentMessage(
      app.sql,
      other.id,
      { contactId: twin!.id, appointmentId: twinAppointment!.id, phone: p.phone },
      { channel: 'sms', from: SENDER },
    );

    await reply(p, 'STOP');
    expect((await contact(twin!.id)).do_not_sms).toBe(true);
    expect((await contact(p.contactId)).do_not_sms).toBe(false);

    await reply(p, 'STOPALL');
    expect((await contact(p.contactId)).do_not_sms).toBe(true);
  });

  it('refuses a reply that is not signed by Twilio', async () => {
    const p = await person();
    await sentMessage(app.sql, company.id, p, { channel: 'sms', from: SENDER });
    const r = await ingress.post(
      INGRESS_PATHS.twilioSmsInbound,
      { MessageSid: 'SMx', From: p.phone, To: SENDER, Body: 'STOP' },
      { token: 'wrong' },
    );
    expect(r.status).toBe(403);
    expect((await contact(p.contactId)).do_not_sms).toBe(false);
    const [stored] =
      await app.sql`select count(*)::int as n from inbound_messages where from_address = ${p.phone}`;
    expect(stored!.n).toBe(0);
  });
});
