// Families texted by two companies, and their replies through the ingress as Twilio posts them.
import { randomUUID } from 'node:crypto';
import { startIngress, type RunningIngress } from '../../../lib/ingress/server';
import { postAsTwilio } from '../../../lib/ingress/simulate-twilio';
import { INGRESS_PATHS } from '../../../lib/names';
import type { TestCompany } from '../../support/dispatch';
import type { ChaosWorld } from './world';

export interface Family {
  phone: string;
  /** the person's contact and appointment at each company, by company id */
  at: Map<number, { contactId: number; appointmentId: number }>;
}

/** A phone shared by a family with an appointment at each company, and a text due to it from each. */
export async function families(
  world: ChaosWorld,
  companies: TestCompany[],
  count: number,
): Promise<Family[]> {
  const { sql } = world;
  const out: Family[] = [];
  for (let i = 0; i < count; i++) {
    const phone = `+1617${Math.floor(1_000_000 + Math.random() * 8_999_999)}`;
    const at = new Map<number, { contactId: number; appointmentId: number }>();
    for (const company of companies) {
      const [contact] = await sql<{ id: number }[]>`
        insert into contacts (company_id, dedupe_key, first_name, last_name, phone_e164, region)
        values (${company.id}, ${randomUUID()}, ${`Kid${i}`}, 'Lee', ${phone}, 'northeast') returning id`;
      const [appointment] = await sql<{ id: number }[]>`
        insert into appointments (company_id, contact_id, dedupe_key, starts_at)
        values (${company.id}, ${contact!.id}, ${randomUUID()}, now() + interval '2 days') returning id`;
      await sql`
        insert into messages (company_id, contact_id, appointment_id, channel, template_name, data, contact_at, region)
        values (${company.id}, ${contact!.id}, ${appointment!.id}, 'sms', 'appointment_reminder',
                ${sql.json({ first_name: `Kid${i}`, appointment_date: '2030-03-05T14:30:00Z' })},
                now() - interval '1 minute', 'northeast')`;
      at.set(company.id, { contactId: contact!.id, appointmentId: appointment!.id });
    }
    out.push({ phone, at });
  }
  return out;
}

export interface ReplyIngress {
  /** posts a text from `from` to our number `to`, signed as Twilio signs it */
  reply(from: string, to: string, body: string): Promise<void>;
  close(): Promise<void>;
}

export async function startReplyIngress(world: ChaosWorld): Promise<ReplyIngress> {
  const ingress: RunningIngress = await startIngress(
    {
      sql: world.sql,
      log: world.log,
      twilio: { authToken: world.twilio.authToken, accountSid: world.twilio.accountSid },
      sns: { topicArns: [], fetchText: async () => '' },
    },
    { port: 0 },
  );
  return {
    async reply(from, to, body) {
      const sid = `SM${randomUUID().replace(/-/g, '')}`;
      const r = await postAsTwilio({
        publicBaseUrl: ingress.url,
        authToken: world.twilio.authToken,
        path: INGRESS_PATHS.twilioSmsInbound,
        params: { MessageSid: sid, SmsSid: sid, From: from, To: to, Body: body, NumMedia: '0' },
      });
      if (r.status !== 200) throw new Error(`the ingress answered ${r.status}: ${r.body}`);
    },
    close: () => ingress.close(),
  };
}

export async function appointmentStatus(world: ChaosWorld, id: number): Promise<string> {
  const [row] = await world.sql<{ status: string }[]>`select status from appointments where id = ${id}`;
  return row!.status;
}

export async function doNotSms(world: ChaosWorld, contactId: number): Promise<boolean> {
  const [row] = await world.sql<
    { do_not_sms: boolean }[]
  >`select do_not_sms from contacts where id = ${contactId}`;
  return row!.do_not_sms;
}
