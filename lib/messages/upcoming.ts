// What operators are shown of reminders ahead: what will be sent when (computed from the plan), and what a packet's appointments will get.
import type { Sql } from '../db';
import { dueSteps, stepHasMessage, type CompanyPlan } from './due-steps';

/** States of a message that has not gone out yet and may still go. */
const PENDING = ['scheduled', 'held', 'sending'];
/** States of a message a provider took. */
const SENT = ['sent', 'delivered', 'undelivered', 'unknown'];

export interface UpcomingReminder {
  /** when it is due: a step's due time, or a pending message's (deferred) contact time */
  at: Date;
  appointmentId: string;
  appointmentAt: Date;
  step: string;
  channel: string;
  template: string;
  region: string;
  /** 'to come' (computed; its message is made when it falls due) or the pending message's state */
  status: string;
}

/**
 * The reminders of a company due in [from, to]: the plan's steps that have no message yet, computed
 * as the reminder run will compute them, and the messages already made and not sent (a step made by a
 * run and deferred by quiet hours, held for credits). Ordered by time.
 */
export async function upcomingReminders(
  sql: Sql,
  plan: CompanyPlan,
  window: { from: string; to: string; now: string; limit: number },
): Promise<UpcomingReminder[]> {
  const rows = await sql<
    {
      at: Date;
      appointment_id: string;
      appointment_at: Date;
      step: string;
      channel: string;
      template: string;
      region: string;
      status: string;
    }[]
  >`
    select * from (
      select d.due_at as at, a.uuid as appointment_id, d.appointment_at, d.step, d.channel,
             d.template_name as template, d.region, 'to come' as status
      from (${dueSteps(sql, { plan, now: window.now, dueBy: window.to, dueFrom: window.from })}) d
      join appointments a on a.id = d.appointment_id and a.company_id = d.company_id
      where not ${stepHasMessage(sql)}
      union all
      select m.contact_at, a.uuid, m.appointment_at, m.plan_step, m.channel, m.template_name, m.region, m.state
      from messages m join appointments a on a.id = m.appointment_id and a.company_id = m.company_id
      where m.company_id = ${plan.companyId} and m.state in ${sql(PENDING)}
        and m.contact_at >= ${window.from}::timestamptz and m.contact_at <= ${window.to}::timestamptz
    ) r
    order by at, appointment_id, step
    limit ${window.limit}`;
  return rows.map((r) => ({
    at: r.at,
    appointmentId: r.appointment_id,
    appointmentAt: r.appointment_at,
    step: r.step,
    channel: r.channel,
    template: r.template,
    region: r.region,
    status: r.status,
  }));
}

export interface PacketReminders {
  /** the appointments this packet wrote last */
  appointments: number;
  /** messages of their current times that providers took */
  sent: number;
  /** messages made and not sent yet */
  pending: number;
  /** steps still to fall due (computed from the plan) */
  toCome: number;
}

/** How many reminders the appointments a packet wrote last have had, and will get. */
export async function packetReminders(
  sql: Sql,
  plan: CompanyPlan,
  packetId: number,
  now: string,
): Promise<PacketReminders> {
  const [counts] = await sql<PacketReminders[]>`
    select
      (select count(*)::int from appointments
       where company_id = ${plan.companyId} and last_packet_id = ${packetId}) as appointments,
      (select count(*)::int from messages m join appointments a on a.id = m.appointment_id and a.company_id = m.company_id
       where a.company_id = ${plan.companyId} and a.last_packet_id = ${packetId}
         and m.appointment_at = a.starts_at and m.state in ${sql(SENT)}) as sent,
      (select count(*)::int from messages m join appointments a on a.id = m.appointment_id and a.company_id = m.company_id
       where a.company_id = ${plan.companyId} and a.last_packet_id = ${packetId}
         and m.appointment_at = a.starts_at and m.state in ${sql(PENDING)}) as pending,
      (select count(*)::int
       from (${dueSteps(sql, { plan, now, dueBy: 'infinity', packetId })}) d
       where not ${stepHasMessage(sql)}) as "toCome"`;
  return counts!;
}
