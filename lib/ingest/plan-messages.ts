// Plans reminder messages for the appointments a packet touched, from the company's reminder plan.
import type { Sql } from '../db';
import { offsetMinutes } from '../../schemas/company-settings';
import { COMPANY_INGEST_LOCK } from './merge';
import type { PacketContext } from './packet-context';

/** Parts of a packet's appointments planned at once, each in its own transaction. */
const PLAN_PARTS = 4;

export interface PlanResult {
  /** messages of this packet, however many attempts it took to plan them */
  messagesPlanned: number;
  /** pending messages of appointments a full-refresh feed no longer lists */
  messagesDropped: number;
}

/**
 * One message per appointment and plan step, at the step's offset before the appointment (at a local
 * time of day in the contact's zone when the step names one), never in the past and never after the
 * appointment. A step whose channel cannot reach the contact (no phone, or opted out) uses the
 * fallback channel, or is left out. Planning twice plans nothing new: a step already pending or sent
 * for an appointment is kept (the partial unique index on messages).
 */
export async function planPacketMessages(
  sql: Sql,
  context: PacketContext,
  rowsLoaded: number,
): Promise<PlanResult> {
  // Each message costs Postgres index and foreign-key work on one core; disjoint parts of the packet's
  // appointments are planned side by side so a server with several cores uses them. A part that fails
  // fails the activity once every part has stopped; its retry plans only what is missing.
  if (context.company.settings.reminderPlan.length > 0) {
    const parts = await Promise.allSettled(
      Array.from({ length: PLAN_PARTS }, (_, part) => planPart(sql, context, part)),
    );
    const failed = parts.find((p): p is PromiseRejectedResult => p.status === 'rejected');
    if (failed) throw failed.reason;
  }
  const companyId = context.company.id;
  const packetId = context.packet.id;
  return (await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock_shared(${companyId}, ${COMPANY_INGEST_LOCK})`;
    let messagesDropped = 0;
    if (context.source?.refreshMode === 'full_refresh' && rowsLoaded > 0) {
      const dropped = await tx`
        update messages m
        set state = 'cancelled', status_description = 'the appointment is no longer in the full-refresh feed ' || ${context.source.name}
        from appointments a join data_packets p on p.id = a.last_packet_id
        where a.company_id = ${companyId} and p.source_id = ${context.source.id} and a.last_packet_id <> ${packetId}
          and m.appointment_id = a.id and m.plan_step is not null
          and m.state in ('scheduled', 'held') and m.state not in ('cancelled', 'expired')`;
      messagesDropped = dropped.count;
    }
    const [planned] = await tx<{ n: number }[]>`
      select count(*)::int as n from messages where packet_id = ${packetId} and company_id = ${companyId}`;
    await tx`update data_packets set messages_planned = ${planned!.n} where id = ${packetId}`;
    return { messagesPlanned: planned!.n, messagesDropped };
  })) as PlanResult;
}

/** Plans the part of the packet's appointments whose id modulo PLAN_PARTS is `part`. */
async function planPart(sql: Sql, context: PacketContext, part: number): Promise<void> {
  try {
    await insertPart(sql, context, part, 'plain when nothing is planned yet');
  } catch (err) {
    // another planning of this packet (an activity retried while its first attempt still ran) planned
    // some of these steps after this one looked: plan the part again, keeping what is there
    if (!isPlanStepConflict(err)) throw err;
    await insertPart(sql, context, part, 'keep what is planned');
  }
}

function isPlanStepConflict(err: unknown): boolean {
  const e = err as { code?: unknown; constraint_name?: unknown };
  return e.code === '23505' && e.constraint_name === 'messages_plan_step';
}

async function insertPart(
  sql: Sql,
  context: PacketContext,
  part: number,
  mode: 'plain when nothing is planned yet' | 'keep what is planned',
): Promise<void> {
  const { reminderPlan, fallbackChannel } = context.company.settings;
  const companyId = context.company.id;
  const packetId = context.packet.id;
  await sql.begin(async (tx) => {
    // a packet's appointments times its steps, joined and checked in memory rather than on disk
    await tx`set local work_mem = '128MB'`;
    // shared with the other parts, exclusive against a merge of the same company
    await tx`select pg_advisory_xact_lock_shared(${companyId}, ${COMPANY_INGEST_LOCK})`;
    // ON CONFLICT DO NOTHING makes every new message a speculative insert (the unique index probed
    // first, the row confirmed after): ~4 µs of a message's ~40. A part none of whose appointments has a
    // pending or sent planned message yet (a new packet's, or one whose appointments all moved) cannot
    // conflict except with a concurrent planning of the same packet, which the caller handles.
    // (counted, not `exists`: a limit-one plan may walk every appointment of every packet to find none)
    const [planned] =
      mode === 'keep what is planned'
        ? [{ n: 1 }]
        : await tx<{ n: number }[]>`
            select count(*)::int as n from appointments a
            where a.company_id = ${companyId} and a.last_packet_id = ${packetId} and a.id % ${PLAN_PARTS} = ${part}
              and exists (select from messages m where m.appointment_id = a.id and m.plan_step is not null
                            and m.state not in ('cancelled', 'expired'))`;
    // What every step of an appointment shares (its message data, its contact's zone and reachable
    // channels) is worked out once per appointment in the subquery (offset 0 keeps it apart), not once
    // per message: the data alone is four jsonb values built and copied.
    await tx`
      insert into messages (company_id, customer_id, location_id, contact_id, appointment_id, packet_id, channel,
                            template_name, plan_step, data, contact_at, expires_at, region)
      select a.company_id, a.customer_id, a.location_id, a.contact_id, a.id, ${packetId}, ch.channel, s.template, s.step,
             a.message_data, t.contact_at, a.starts_at, a.region
      from (
        select a.id, a.company_id, a.customer_id, a.location_id, a.contact_id, a.starts_at, c.region,
               coalesce(c.timezone, ${context.company.timezone}) as timezone,
               c.phone_e164 is not null and not c.do_not_sms as sms,
               c.phone_e164 is not null and not c.do_not_call as voice,
               c.email is not null and not c.do_not_email as email,
               -- provider and location are always keys (null when the appointment has none)
               a.data || jsonb_build_object(
                 'first_name', c.first_name, 'last_name', c.last_name,
                 'appointment_date', to_char(a.starts_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'provider', a.data -> 'provider', 'location', a.data -> 'location') as message_data
        from appointments a
        join contacts c on c.id = a.contact_id
        where a.company_id = ${companyId} and a.last_packet_id = ${packetId} and a.id % ${PLAN_PARTS} = ${part}
          and a.status not in ('cancelled', 'completed')
        offset 0
      ) a
      cross join unnest(${reminderPlan.map((s) => s.step)}::text[], ${reminderPlan.map((s) => s.channel)}::text[],
                        ${reminderPlan.map((s) => s.template)}::text[], ${reminderPlan.map(offsetMinutes)}::int[],
                        ${reminderPlan.map((s) => s.at ?? '')}::text[])
        as s(step, channel, template, offset_minutes, at_time)
      cross join lateral (
        select case when s.at_time = '' then a.starts_at + make_interval(mins => s.offset_minutes)
                    else (((a.starts_at at time zone a.timezone)::date + (s.offset_minutes / 1440)) + s.at_time::time)
                         at time zone a.timezone
               end as contact_at) t
      cross join lateral (
        select case when (s.channel = 'sms' and a.sms) or (s.channel = 'voice' and a.voice)
                      or (s.channel = 'email' and a.email) then s.channel
                    when (${fallbackChannel} = 'email' and a.email) or (${fallbackChannel} = 'sms' and a.sms)
                      or (${fallbackChannel} = 'voice' and a.voice) then ${fallbackChannel}::text
               end as channel) ch
      where ch.channel is not null and t.contact_at > now() and t.contact_at < a.starts_at
      ${
        planned!.n > 0
          ? tx`on conflict (appointment_id, plan_step)
                 where appointment_id is not null and plan_step is not null and state not in ('cancelled', 'expired')
                 do nothing`
          : tx``
      }`;
  });
}
