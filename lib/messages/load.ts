// Reads what a send batch needs in a few queries: the messages, and their company with its plan limits, rates, templates and senders.
import type { PendingQuery, Row } from 'postgres';
import type { Sql, TransactionSql } from '../db';
import type { PlanLimits } from './claim';
import type { Channel } from '../providers/types';

export interface StoredTemplate {
  id: number;
  scope: 'global' | 'company' | 'customer';
  companyId: number | null;
  customerId: number | null;
  channel: Channel;
  name: string;
  language: string;
  version: number;
  subject: string | null;
  body: string;
  htmlBody: string | null;
  details: { snippets?: Record<string, string> };
}

export interface SenderNumber {
  id: number;
  address: string;
  maxPerSecond: number;
}

/** Who a company is and the addresses it sends from: what every reader of a company shares
 * (the send batch here, the company commands in lib/tenants). */
export interface CompanyProfile {
  id: number;
  alias: string;
  name: string;
  timezone: string;
  phoneNumber: string | null;
  emailFrom: string | null;
  emailReplyTo: string | null;
}

/** The CompanyProfile fields of a company named `c`, for a select list: the one place they are spelled. */
export function companyProfileColumns(sql: Sql | TransactionSql): PendingQuery<Row[]> {
  return sql`c.id, c.alias, c.name, c.timezone, c.phone_number as "phoneNumber", c.email_from as "emailFrom",
             c.email_reply_to as "emailReplyTo"`;
}

export interface CompanyContext extends CompanyProfile {
  details: Record<string, unknown>;
  settings: { sms?: { replaceLookalikes?: boolean } };
  plan: PlanLimits;
  /** credits per unit for this channel (SMS per segment, voice per started minute, email per message) */
  creditsPerUnit: number;
  templates: StoredTemplate[];
}

export interface DispatchMessage {
  id: number;
  uuid: string;
  companyId: number;
  channel: Channel;
  templateName: string;
  data: Record<string, unknown>;
  state: string;
  dispatchToken: string | null;
  sendingAt: Date | null;
  attempts: number;
  credits: number | null;
  toAddress: string | null;
  fromAddress: string | null;
  customerId: number | null;
  contact: {
    id: number;
    firstName: string | null;
    lastName: string | null;
    phone: string | null;
    email: string | null;
    language: string;
    timezone: string | null;
    doNotSms: boolean;
    doNotCall: boolean;
    doNotEmail: boolean;
  };
  customer: { name: string } | null;
  location: { name: string; phoneNumber: string | null; city: string | null; timezone: string | null } | null;
}

export class UnknownCompanyError extends Error {
  override readonly name = 'UnknownCompanyError';
}

export async function loadCompanyContext(
  sql: Sql,
  companyId: number,
  channel: Channel,
): Promise<CompanyContext> {
  const [company] = await sql<
    (Omit<CompanyContext, 'plan' | 'creditsPerUnit' | 'templates'> & {
      max_per_day: number | null;
      max_messages_per_month: number | null;
      max_sms_segments: number | null;
      max_sends_per_second: number | null;
      credits_per_unit: string | null;
      templates: StoredTemplate[];
    })[]
  >`
    select ${companyProfileColumns(sql)}, c.details, c.settings,
           case ${channel} when 'sms' then p.max_sms_per_day when 'voice' then p.max_voice_per_day
                           else p.max_email_per_day end as max_per_day,
           p.max_messages_per_month, p.max_sms_segments, p.max_sends_per_second,
           r.credits_per_unit,
           -- in the same round trip: a send batch waits on this read before its first text
           (select coalesce(jsonb_agg(jsonb_build_object(
                     'id', t.id, 'scope', t.scope, 'companyId', t.company_id, 'customerId', t.customer_id,
                     'channel', t.channel, 'name', t.name, 'language', t.language, 'version', t.version,
                     'subject', t.subject, 'body', t.body, 'htmlBody', t.html_body, 'details', t.details)),
                   '[]'::jsonb)
            from message_templates t
            where t.active and t.channel = ${channel} and (t.scope = 'global' or t.company_id = c.id)) as templates
    from companies c
    left join company_plans p on p.company_id = c.id
    left join credit_rates r on r.channel = ${channel}
    where c.id = ${companyId}`;
  if (!company) throw new UnknownCompanyError(`no company has id ${companyId}`);
  const {
    max_per_day,
    max_messages_per_month,
    max_sms_segments,
    max_sends_per_second,
    credits_per_unit,
    templates,
    ...rest
  } = company;
  return {
    ...rest,
    plan: {
      maxPerDay: max_per_day,
      maxPerMonth: max_messages_per_month,
      maxSmsSegments: max_sms_segments ?? 4,
      maxSendsPerSecond: max_sends_per_second,
    },
    creditsPerUnit: Number(credits_per_unit ?? 1),
    templates,
  };
}

/** The company's own sender numbers on the account, else the account's shared ones. */
export async function loadSenders(sql: Sql, accountId: number, companyId: number): Promise<SenderNumber[]> {
  const rows = await sql<(SenderNumber & { company_id: number | null })[]>`
    select id, address, max_per_second::float8 as "maxPerSecond", company_id
    from sender_numbers
    where account_id = ${accountId} and active and (company_id = ${companyId} or company_id is null)
    order by id`;
  const own = rows.filter((r) => r.company_id === companyId);
  return (own.length ? own : rows).map(({ company_id: _c, ...s }) => s);
}

export async function loadMessages(
  sql: Sql,
  companyId: number,
  channel: Channel,
  ids: readonly number[],
): Promise<DispatchMessage[]> {
  const rows = await sql<(Record<string, unknown> & { id: number })[]>`
    select m.id, m.uuid, m.company_id, m.channel, m.template_name, m.data, m.state, m.dispatch_token, m.sending_at,
           m.attempts, m.credits, m.to_address, m.from_address, m.customer_id,
           c.id as contact_id, c.first_name, c.last_name, c.phone_e164, c.email, c.language, c.timezone as contact_timezone,
           c.do_not_sms, c.do_not_call, c.do_not_email,
           cu.name as customer_name, l.name as location_name, l.phone_number as location_phone, l.city as location_city,
           l.timezone as location_timezone
    from messages m
    join contacts c on c.id = m.contact_id and c.company_id = m.company_id
    left join customers cu on cu.id = m.customer_id
    left join company_locations l on l.id = m.location_id
    where m.company_id = ${companyId} and m.channel = ${channel} and m.id in ${sql(ids as number[])}
    order by m.id`;
  return rows.map((r) => ({
    id: r.id,
    uuid: r.uuid as string,
    companyId: r.company_id as number,
    channel: r.channel as Channel,
    templateName: r.template_name as string,
    data: (r.data ?? {}) as Record<string, unknown>,
    state: r.state as string,
    dispatchToken: r.dispatch_token as string | null,
    sendingAt: r.sending_at as Date | null,
    attempts: r.attempts as number,
    credits: r.credits === null ? null : Number(r.credits),
    toAddress: r.to_address as string | null,
    fromAddress: r.from_address as string | null,
    customerId: r.customer_id as number | null,
    contact: {
      id: r.contact_id as number,
      firstName: r.first_name as string | null,
      lastName: r.last_name as string | null,
      phone: r.phone_e164 as string | null,
      email: r.email as string | null,
      language: (r.language as string | null) ?? 'en',
      timezone: r.contact_timezone as string | null,
      doNotSms: r.do_not_sms as boolean,
      doNotCall: r.do_not_call as boolean,
      doNotEmail: r.do_not_email as boolean,
    },
    customer: r.customer_name ? { name: r.customer_name as string } : null,
    location: r.location_name
      ? {
          name: r.location_name as string,
          phoneNumber: r.location_phone as string | null,
          city: r.location_city as string | null,
          timezone: r.location_timezone as string | null,
        }
      : null,
  }));
}
