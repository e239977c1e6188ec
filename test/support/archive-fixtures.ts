// Test data for archival: a company with a retention, and messages in given states and ages.
import { randomUUID } from 'node:crypto';
import type { Sql } from '../../lib/db';

export async function makeCompany(
  sql: Sql,
  opts: { alias?: string; retentionDays?: number } = {},
): Promise<{ id: number; alias: string }> {
  const alias = opts.alias ?? `arch-${randomUUID().slice(0, 8)}`;
  const [row] = await sql<{ id: number }[]>`
    insert into companies (alias, name, retention_days)
    values (${alias}, ${'Archive test ' + alias}, ${opts.retentionDays ?? 30}) returning id`;
  return { id: row!.id, alias };
}

export interface MessageSpec {
  state: string;
  contactAt: string;
  /** last change; defaults to contactAt */
  updatedAt?: string;
  updates?: number;
  /** the appointment time a reminder step was made for (none: not a plan step) */
  appointmentAt?: string;
}

export async function makeMessages(sql: Sql, companyId: number, specs: MessageSpec[]): Promise<number[]> {
  const ids: number[] = [];
  for (const spec of specs) {
    const [contact] = await sql<{ id: number }[]>`
      insert into contacts (company_id, dedupe_key, phone_e164, first_name)
      values (${companyId}, ${randomUUID()}, '+16175550100', 'Pat') returning id`;
    const [message] = await sql<{ id: number }[]>`
      insert into messages (company_id, contact_id, channel, template_name, contact_at, region, state, provider,
                            provider_message_id, data, updated_at, appointment_at)
      values (${companyId}, ${contact!.id}, 'sms', 'appointment_reminder', ${spec.contactAt}, 'northeast', ${spec.state},
              'outbox', ${randomUUID()}, ${sql.json({ note: 'fixture' })}, ${spec.updatedAt ?? spec.contactAt},
              ${spec.appointmentAt ?? null})
      returning id`;
    for (let i = 0; i < (spec.updates ?? 0); i++) {
      await sql`
        insert into message_updates (message_id, company_id, channel, provider, provider_event_id, event_type, status, payload)
        values (${message!.id}, ${companyId}, 'sms', 'outbox', ${randomUUID()}, 'status', 'delivered', ${sql.json({ i })})`;
    }
    ids.push(message!.id);
  }
  return ids;
}

export async function countRows(sql: Sql, companyId: number) {
  const [r] = await sql<
    {
      live: number;
      history: number;
      liveUpdates: number;
      historyUpdates: number;
      events: number;
      audit: number;
    }[]
  >`
    select (select count(*)::int from messages where company_id = ${companyId}) as live,
           (select count(*)::int from messages_history where company_id = ${companyId}) as history,
           (select count(*)::int from message_updates where company_id = ${companyId}) as "liveUpdates",
           (select count(*)::int from message_updates_history where company_id = ${companyId}) as "historyUpdates",
           (select count(*)::int from packet_events where company_id = ${companyId}) as events,
           (select count(*)::int from audit_log where company_id = ${companyId}) as audit`;
  return r!;
}

/** A packet with stage events at the given instants (packet events are purged by age). */
export async function makePacketEvents(sql: Sql, companyId: number, at: string[]): Promise<void> {
  const [packet] = await sql<{ id: number }[]>`
    insert into data_packets (company_id, dedupe_key, object_key, stage)
    values (${companyId}, ${randomUUID()}, 'raw/test.csv', 'done') returning id`;
  for (const instant of at) {
    await sql`
      insert into packet_events (packet_id, company_id, stage, event, actor, at)
      values (${packet!.id}, ${companyId}, 'done', 'fixture', 'test', ${instant})`;
  }
}
