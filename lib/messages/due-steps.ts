// Which reminder steps fall due when: the company's plan applied to each appointment as it is now and to its recipient's zone, computed whenever asked.
import type { PendingQuery, Row } from 'postgres';
import type { Sql, TransactionSql } from '../db';
import {
  companySettingsSchema,
  offsetMinutes,
  type Channel,
  type ReminderStep,
} from '../../schemas/company-settings';
import { formatZodIssues } from '../../schemas/load-map';
import { clockMinutes } from '../../schemas/reminder-settings';

/** What the computation needs of a company: its plan, the channel that stands in, the zone of a contact with none. */
export interface CompanyPlan {
  companyId: number;
  timezone: string;
  steps: readonly ReminderStep[];
  fallbackChannel: Channel | null;
}

/** A company's settings hold a reminder plan that does not parse: the company's to fix, never retried. */
export class InvalidReminderPlan extends Error {
  override readonly name = 'InvalidReminderPlan';
}

/** The company's plan as its settings say (zod defaults filled in); undefined when the company does not exist. */
export async function loadCompanyPlan(sql: Sql, companyId: number): Promise<CompanyPlan | undefined> {
  const [company] = await sql<{ id: number; alias: string; timezone: string; settings: unknown }[]>`
    select id, alias, timezone, settings from companies where id = ${companyId}`;
  return company && companyPlanOf(company);
}

/** The plan a company's row says (its id, alias, timezone and settings columns); throws InvalidReminderPlan. */
export function companyPlanOf(company: {
  id: number;
  alias: string;
  timezone: string;
  settings: unknown;
}): CompanyPlan {
  const parsed = companySettingsSchema.safeParse(company.settings ?? {});
  if (!parsed.success)
    throw new InvalidReminderPlan(
      `company ${company.alias} has an invalid reminder plan: ${formatZodIssues(parsed.error)}`,
    );
  const settings = parsed.data;
  return {
    companyId: company.id,
    timezone: company.timezone,
    steps: settings.reminderPlan,
    fallbackChannel: settings.fallbackChannel,
  };
}

/**
 * The most minutes before its appointment a step can fall due. A step at a local time of day falls on
 * its offset day, so up to a day (and a daylight-saving hour) earlier than the offset alone says.
 */
export function stepLeadMinutes(step: ReminderStep): number {
  const offset = -offsetMinutes(step);
  return step.at === undefined ? offset : offset + 25 * 60;
}

export interface DueStepScope {
  plan: CompanyPlan;
  /** the clock (ISO): an appointment at or before it gets nothing */
  now: string;
  /** steps due at or before this instant (ISO, or 'infinity') */
  dueBy: string;
  /** and at or after this one (ISO); unset = any time after herald learned the appointment's time */
  dueFrom?: string;
  /** only the appointments this packet wrote last */
  packetId?: number;
  /** only recipients in this region */
  region?: string;
}

/**
 * What a reminder's data holds besides the appointment's own fields, whatever the load map;
 * `previous_appointment_date` only when the appointment moved (for a step's movedTemplate).
 */
export const STEP_DATA_FIELDS = [
  'first_name',
  'last_name',
  'appointment_date',
  'provider',
  'location',
  'previous_appointment_date',
];

/**
 * An appointment named `a` of company `companyId` that a full-refresh feed no longer lists: a newer
 * file of the same source, with rows, has been merged since the one that wrote it last. The packets
 * so superseded are found once per statement, not once per appointment.
 */
export function droppedFromFeed(sql: Sql | TransactionSql, companyId: number): PendingQuery<Row[]> {
  return sql`a.last_packet_id = any (array(
    select p.id from data_packets p
    join data_ingest_sources src on src.id = p.source_id and src.company_id = p.company_id
    where p.company_id = ${companyId} and src.refresh_mode = 'full_refresh'
      and exists (select from data_packets q
                  where q.source_id = p.source_id and q.company_id = p.company_id
                    and q.merged_at > p.merged_at and q.rows_loaded > 0)))`;
}

/**
 * A due step, a row of `dueSteps` named `d`, that already has its message for this appointment time
 * (messages_step_once; a cancelled message was never sent and does not count).
 */
export function stepHasMessage(sql: Sql | TransactionSql): PendingQuery<Row[]> {
  return sql`exists (select from messages m
                     where m.appointment_id = d.appointment_id and m.plan_step = d.step
                       and m.appointment_at = d.appointment_at and m.state <> 'cancelled')`;
}

/**
 * Every (appointment, step) of the plan due in the scope's window, one row each, with what its message
 * is made of. The rule, for each appointment still ahead, neither cancelled nor completed, still in its
 * feed, and whose reminders the person has not stopped for this time:
 * - a step falls due at its offset before the appointment, or on its offset day at its local time of
 *   day in the recipient's zone (the contact's, else the company's);
 * - it is due only if that falls before the appointment and after herald learned the appointment's
 *   current time (a step that had passed then is not sent late);
 * - it goes on its channel, or on the fallback channel when its own cannot reach the person, or not at
 *   all. Whether its message already exists is the caller's question.
 */
export function dueSteps(sql: Sql | TransactionSql, scope: DueStepScope): PendingQuery<Row[]> {
  const { plan } = scope;
  const steps = plan.steps;
  const maxLead = Math.max(0, ...steps.map(stepLeadMinutes));
  const fallback = plan.fallbackChannel;
  // as text (a Date would lose microseconds, and 'infinity' is none), cast once per statement: a cast
  // in a condition would be worked out again for every row
  const instant = (iso: string) => sql`(select ${iso}::text::timestamptz)`;
  const now = instant(scope.now);
  const dueBy = instant(scope.dueBy);
  return sql`
    select a.id as appointment_id, a.company_id, a.customer_id, a.location_id, a.contact_id,
           a.last_packet_id as packet_id, a.region, s.step, ch.channel,
           case when a.previous_starts_at is not null and s.moved_template <> '' then s.moved_template
                else s.template end as template_name,
           a.starts_at as appointment_at, a.previous_starts_at, d.due_at,
           -- provider and location are always keys (null when the appointment has none)
           a.data || jsonb_build_object(
             'first_name', a.first_name, 'last_name', a.last_name,
             'appointment_date', to_char(a.starts_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
             'provider', a.data -> 'provider', 'location', a.data -> 'location')
             || case when a.previous_starts_at is null then '{}'::jsonb
                     else jsonb_build_object('previous_appointment_date',
                            to_char(a.previous_starts_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) end
             as data
    from (
      -- what every step of an appointment shares is read once per appointment (offset 0 keeps it apart)
      select a.id, a.company_id, a.customer_id, a.location_id, a.contact_id, a.last_packet_id, a.starts_at,
             a.starts_at_set_at, a.previous_starts_at, a.data, c.region, c.first_name, c.last_name,
             coalesce(c.timezone, ${plan.timezone}) as zone,
             c.phone_e164 is not null and not c.do_not_sms as sms,
             c.phone_e164 is not null and not c.do_not_call as voice,
             c.email is not null and not c.do_not_email as email
      from appointments a
      join contacts c on c.id = a.contact_id and c.company_id = a.company_id
      where a.company_id = ${plan.companyId}
        and a.status not in ('cancelled', 'completed')
        and a.starts_at > ${now}
        -- the appointments read: those whose earliest step can be due by then (appointments_due_steps)
        and a.starts_at <= ${dueBy} + ${maxLead} * interval '1 minute'
        ${scope.packetId === undefined ? sql`` : sql`and a.last_packet_id = ${scope.packetId}`}
        ${scope.region === undefined ? sql`` : sql`and c.region = ${scope.region}`}
        and not exists (select from reminder_enrollments e
                        where e.appointment_id = a.id and e.status <> 'active'
                          and (e.status = 'opted_out' or e.appointment_at = a.starts_at))
        and not ${droppedFromFeed(sql, plan.companyId)}
      offset 0
    ) a
    cross join unnest(${steps.map((s) => s.step)}::text[], ${steps.map((s) => s.channel)}::text[],
                      ${steps.map((s) => s.template)}::text[], ${steps.map((s) => s.movedTemplate ?? '')}::text[],
                      ${steps.map(offsetMinutes)}::int[], ${steps.map((s) => (s.at === undefined ? -1 : clockMinutes(s.at)))}::int[],
                      ${steps.map(stepLeadMinutes)}::int[])
      as s(step, channel, template, moved_template, offset_minutes, at_minutes, lead_minutes)
    cross join lateral (
      -- worked out once per appointment and step (offset 0), then compared three ways
      select case when s.at_minutes < 0 then a.starts_at + make_interval(mins => s.offset_minutes)
                  else (((a.starts_at at time zone a.zone)::date + s.offset_minutes / 1440)
                        + make_interval(mins => s.at_minutes)) at time zone a.zone
             end as due_at
      offset 0) d
    cross join lateral (
      select case when (s.channel = 'sms' and a.sms) or (s.channel = 'voice' and a.voice)
                    or (s.channel = 'email' and a.email) then s.channel
                  when (${fallback} = 'sms' and a.sms) or (${fallback} = 'voice' and a.voice)
                    or (${fallback} = 'email' and a.email) then ${fallback}::text
             end as channel) ch
    where a.starts_at <= ${dueBy} + s.lead_minutes * interval '1 minute'
      and d.due_at <= ${dueBy} and d.due_at < a.starts_at and d.due_at > a.starts_at_set_at
      ${scope.dueFrom === undefined ? sql`` : sql`and d.due_at >= ${instant(scope.dueFrom)}`}
      and ch.channel is not null`;
}
