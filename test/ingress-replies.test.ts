import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { INGRESS_PATHS } from '../lib/names';
import { heraldMetrics } from '../lib/ops/metrics';
import { herald } from './support/cli';
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

function reply(p: Person, body: string, sid = `SM${randomUUID().replace(/-/g, '')}`, to = SENDER) {
  return ingress.post(INGRESS_PATHS.twilioSmsInbound, {
    MessageSid: sid,
    SmsSid: sid,
    From: p.phone,
    To: to,
    Body: body,
    NumMedia: '0',
  });
}

/** The same phone at another company: a family member with an appointment there. */
async function samePhoneAt(companyId: number, p: Person): Promise<Person> {
  const [twin] = await app.sql<{ id: number }[]>`
    insert into contacts (company_id, dedupe_key, first_name, last_name, phone_e164, region)
    values (${companyId}, ${randomUUID()}, 'Bo', 'Lee', ${p.phone}, 'northeast') returning id`;
  const [appointment] = await app.sql<{ id: number }[]>`
    insert into appointments (company_id, contact_id, dedupe_key, starts_at)
    values (${companyId}, ${twin!.id}, ${randomUUID()}, ${inADay()}) returning id`;
  return { ...p, contactId: twin!.id, appointmentId: appointment!.id };
}

/** A number of its own for each company, on the outbox SMS account. */
async function ownNumbers(companyIds: number[]): Promise<string[]> {
  const numbers: string[] = [];
  for (const companyId of companyIds) {
    const address = `+1617${Math.floor(1_000_000 + Math.random() * 8_999_999)}`;
    await app.sql`
      insert into sender_numbers (account_id, company_id, address, kind)
      select id, ${companyId}, ${address}, 'long_code' from provider_accounts where key = 'outbox-sms'`;
    numbers.push(address);
  }
  return numbers;
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

  it('STOP on a number reaches every company that texted the phone from it, as the carrier blocks them all', async () => {
    const other = await createTestCompany(app.sql, { credits: 10 });
    const p = await person();
    await sentMessage(app.sql, company.id, p, {
      channel: 'sms',
      from: SENDER,
      sentAt: new Date(Date.now() - 60_000),
    });
    // the same phone at another company, texted more recently from the same number
    const twin = await samePhoneAt(other.id, p);
    await sentMessage(app.sql, other.id, twin, { channel: 'sms', from: SENDER });

    await reply(p, 'STOP');
    expect((await contact(twin.contactId)).do_not_sms).toBe(true);
    expect((await contact(p.contactId)).do_not_sms).toBe(true);

    await reply(p, 'START');
    expect((await contact(twin.contactId)).do_not_sms).toBe(false);
    expect((await contact(p.contactId)).do_not_sms).toBe(false);
  });

  it('acts only on a text sent from the number the reply came to', async () => {
    const p = await person();
    await sentMessage(app.sql, company.id, p, { channel: 'sms', from: '+16175550177' });
    const sid = `SM${randomUUID().replace(/-/g, '')}`;
    await reply(p, 'C', sid);
    expect(await appointmentStatus(p.appointmentId)).toBe('scheduled');
    const [stored] = await app.sql`
      select company_id, message_id, ambiguous from inbound_messages where provider_event_id = ${sid}`;
    expect(stored).toEqual({ company_id: null, message_id: null, ambiguous: false });
  });

  it('two companies, one family phone, one shared number: a C confirms neither, and is kept with both', async () => {
    const other = await createTestCompany(app.sql, { credits: 10 });
    const p = await person();
    const twin = await samePhoneAt(other.id, p);
    const mine = await sentMessage(app.sql, company.id, p, { channel: 'sms', from: SENDER });
    const theirs = await sentMessage(app.sql, other.id, twin, { channel: 'sms', from: SENDER });
    const sid = `SM${randomUUID().replace(/-/g, '')}`;
    await reply(p, 'C', sid);
    expect(await appointmentStatus(p.appointmentId)).toBe('scheduled');
    expect(await appointmentStatus(twin.appointmentId)).toBe('scheduled');
    expect(await messageRow(app.sql, mine.id)).toMatchObject({ contact_status: null });
    expect(await messageRow(app.sql, theirs.id)).toMatchObject({ contact_status: null });
    const [stored] = await app.sql<
      { company_id: number | null; ambiguous: boolean; candidates: unknown[] }[]
    >`
      select company_id, ambiguous, candidates from inbound_messages where provider_event_id = ${sid}`;
    expect(stored!.company_id).toBeNull();
    expect(stored!.ambiguous).toBe(true);
    expect(stored!.candidates).toEqual(
      expect.arrayContaining([
        { companyId: company.id, messageId: mine.id },
        { companyId: other.id, messageId: theirs.id },
      ]),
    );
    expect(stored!.candidates).toHaveLength(2);
    // counted, and shown to operators with the companies it could be for
    const run = await herald(['replies', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      ambiguous: number;
      waiting: { to: string; body: string; companies: string[]; from: string }[];
    };
    expect(report.ambiguous).toBeGreaterThanOrEqual(1);
    expect(await heraldMetrics(app.sql)).toMatch(/^herald_replies\{outcome="ambiguous"\} [1-9]\d*$/m);
    expect(report.waiting).toContainEqual(
      expect.objectContaining({
        to: SENDER,
        body: 'C',
        companies: [company.alias, other.alias].sort(),
        from: expect.stringMatching(new RegExp(`${p.phone.slice(-4)}$`)),
      }),
    );
  });

  it('two companies, one family phone, numbers of their own: a C confirms the one whose number it came to', async () => {
    const other = await createTestCompany(app.sql, { credits: 10 });
    const [ours, theirs] = await ownNumbers([company.id, other.id]);
    const p = await person();
    const twin = await samePhoneAt(other.id, p);
    const mine = await sentMessage(app.sql, company.id, p, { channel: 'sms', from: ours });
    // the other company texted the phone last
    await sentMessage(app.sql, other.id, twin, { channel: 'sms', from: theirs });
    await reply(p, 'C', undefined, ours);
    expect(await appointmentStatus(p.appointmentId)).toBe('confirmed');
    expect(await messageRow(app.sql, mine.id)).toMatchObject({ contact_status: 'confirmed' });
    expect(await appointmentStatus(twin.appointmentId)).toBe('scheduled');
    // and a STOP to one's own number stops only that company's texts
    await reply(p, 'STOP', undefined, theirs);
    expect((await contact(twin.contactId)).do_not_sms).toBe(true);
    expect((await contact(p.contactId)).do_not_sms).toBe(false);
  });

  it('keeps a number one company’s or shared, never both, so a reply to it always says whose it is', async () => {
    const other = await createTestCompany(app.sql, { credits: 10 });
    const [owned] = await ownNumbers([company.id]);
    const onAnotherAccount = (companyId: number | null, address: string) => app.sql`
      insert into sender_numbers (account_id, company_id, address, kind)
      select id, ${companyId}, ${address}, 'long_code' from provider_accounts where key = 'outbox-voice'`;
    // the owner may use it on another account too
    await onAnotherAccount(company.id, owned!);
    await expect(onAnotherAccount(other.id, owned!)).rejects.toMatchObject({ code: '23505' });
    await expect(onAnotherAccount(null, owned!)).rejects.toMatchObject({ code: '23505' });
    // a shared number cannot be taken by one company either
    await expect(
      app.sql`update sender_numbers set company_id = ${other.id} where address = ${SENDER} and company_id is null`,
    ).rejects.toMatchObject({ code: '23505' });
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
