// Test helpers for the ingress: one running on a free port with a known Twilio token, and messages already sent.
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { App } from '../../lib/app';
import type { Sql } from '../../lib/db';
import { startIngress, type IngressLimits, type RunningIngress } from '../../lib/ingress/server';
import { snsStringToSign, type SnsMessage } from '../../lib/ingress/sns';
import { INGRESS_PATHS } from '../../lib/names';
import { postAsTwilio } from '../../lib/ingress/simulate-twilio';
import type { Person } from './reminders';

export const TWILIO_TOKEN = 'test-auth-token-0123456789abcdef';
export const SNS_TOPIC = 'arn:aws:sns:us-east-1:123456789012:herald-ses-events';
export const SNS_CERT_URL =
  'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';
export const UNSUBSCRIBE_SECRET = 'unsubscribe-secret-for-tests';

/** The key SNS would sign with; the ingress fetches its public half from the (stubbed) certificate URL. */
export const snsKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** An SNS message as AWS signs it (version 2) with `snsKeys`. */
export function signedSns(
  fields: Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>,
): SnsMessage {
  const m = { ...fields, SignatureVersion: '2', SigningCertURL: SNS_CERT_URL, Signature: '' } as SnsMessage;
  m.Signature = createSign('RSA-SHA256').update(snsStringToSign(m)).sign(snsKeys.privateKey, 'base64');
  return m;
}

export interface TestIngress extends RunningIngress {
  /** posts an SNS message (as SNS does, text/plain JSON) to the SES events route; the response status */
  postSns(body: unknown): Promise<number>;
  /** SNS URLs the ingress fetched (certificate, subscription confirmations) */
  fetched: string[];
  post(
    path: string,
    params: Record<string, string>,
    opts?: { token?: string; signature?: string | null },
  ): Promise<{ status: number; body: string }>;
}

export async function startTestIngress(app: App, limits?: IngressLimits): Promise<TestIngress> {
  const fetched: string[] = [];
  const ingress = await startIngress(
    {
      sql: app.sql,
      log: app.log,
      twilio: { authToken: TWILIO_TOKEN },
      sns: {
        topicArns: [SNS_TOPIC],
        fetchText: async (url) => {
          fetched.push(url);
          return url === SNS_CERT_URL
            ? snsKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString()
            : 'confirmed';
        },
      },
      unsubscribeSecret: UNSUBSCRIBE_SECRET,
    },
    { port: 0, limits },
  );
  return {
    ...ingress,
    fetched,
    async postSns(body) {
      const r = await fetch(`${ingress.url}${INGRESS_PATHS.sesEvents}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify(body),
      });
      return r.status;
    },
    async post(path, params, opts = {}) {
      if (opts.signature !== undefined) {
        const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
        if (opts.signature !== null) headers['x-twilio-signature'] = opts.signature;
        const r = await fetch(`${ingress.url}${path}`, {
          method: 'POST',
          headers,
          body: new URLSearchParams(params).toString(),
        });
        return { status: r.status, body: await r.text() };
      }
      return postAsTwilio({
        publicBaseUrl: ingress.url,
        authToken: opts.token ?? TWILIO_TOKEN,
        path,
        params,
      });
    },
  };
}

/** The form Twilio posts to a message's status callback URL. */
export const smsStatus = (sid: string, status: string, extra: Record<string, string> = {}) => ({
  MessageSid: sid,
  SmsSid: sid,
  MessageStatus: status,
  SmsStatus: status,
  AccountSid: 'AC00000000000000000000000000000000',
  ...extra,
});

let sidSerial = 0;

/** The person's appointment enrolled in its reminder sequence, as the run enrols it with its first message. */
async function enrol(sql: Sql, companyId: number, person: Person): Promise<void> {
  await sql`
    insert into reminder_enrollments (company_id, contact_id, appointment_id, appointment_at)
    select company_id, contact_id, id, starts_at from appointments where id = ${person.appointmentId} and company_id = ${companyId}
    on conflict (appointment_id) do nothing`;
}

/** A message of the person's plan that a provider has already accepted. */
export async function sentMessage(
  sql: Sql,
  companyId: number,
  person: Person,
  opts: {
    channel: 'sms' | 'voice' | 'email';
    provider?: string;
    from?: string;
    step?: string;
    sentAt?: Date;
    to?: string;
  },
): Promise<{ id: number; uuid: string; sid: string }> {
  const sid = `${opts.channel === 'voice' ? 'CA' : 'SM'}${randomUUID().replace(/-/g, '')}`;
  const [row] = await sql<{ id: number; uuid: string }[]>`
    insert into messages (company_id, contact_id, appointment_id, channel, template_name, plan_step, data, contact_at, region,
                          state, provider, provider_account, provider_message_id, to_address, from_address, sent_at)
    values (${companyId}, ${person.contactId}, ${person.appointmentId}, ${opts.channel}, 'appointment_reminder',
            ${opts.step ?? `step-${++sidSerial}`}, ${sql.json({ first_name: 'ann' })}, now() - interval '1 hour', 'northeast',
            'sent', ${opts.provider ?? 'twilio'}, 'test', ${sid}, ${opts.to ?? person.phone}, ${opts.from ?? '+16175550199'},
            ${opts.sentAt ?? new Date()})
    returning id, uuid`;
  // the reminder run enrols an appointment with its first message
  await enrol(sql, companyId, person);
  if (opts.channel === 'voice') {
    await sql`
      insert into calls (company_id, message_id, contact_id, provider, provider_account, provider_call_sid, to_number, status)
      values (${companyId}, ${row!.id}, ${person.contactId}, 'twilio', 'test', ${sid}, ${person.phone}, 'queued')`;
  }
  return { ...row!, sid };
}

export async function updatesOf(
  sql: Sql,
  messageId: number,
): Promise<{ provider: string; event_type: string; status: string | null }[]> {
  return sql`select provider, event_type, status from message_updates where message_id = ${messageId} order by id`;
}
