// The reminder run's first step: a message row for every plan step that has fallen due and has none, and its appointment enrolled.
import type { Sql } from '../db';
import type { Channel } from '../providers/types';
import { dueSteps, stepHasMessage, type CompanyPlan } from './due-steps';

export interface CreatedMessages {
  /** messages this statement made */
  created: number;
  /** the messages its run made: this statement's and its earlier attempts' (those that committed); not other runs' */
  runCreated: number;
  /** how many each region got from this statement */
  byRegion: Record<string, number>;
  /** the regions holding scheduled messages due by `now` (these and earlier ones), with their channels */
  due: DueRegion[];
}

export interface DueRegion {
  region: string;
  due: number;
  channels: Channel[];
}

/**
 * One statement, so a retried activity or two overlapping runs make each step once per appointment
 * time: what already has its message is left out, and a concurrent run's uncommitted insert of the
 * same step is waited for and then skipped (ON CONFLICT on messages_step_once).
 *
 * The appointment's drip enrollment follows its first message for a time: a new one is active; one
 * that stopped for an earlier time (the person confirmed, cancelled or asked to reschedule) starts
 * again for the new time; an opt-out stays.
 *
 * The statement adds what it made to its run's row of `reminder_runs` (keyed by the Temporal run id)
 * and reads the total back, in the same transaction as the messages: an attempt that
 * committed and was then retried left its count there, so `runCreated` is what the run made whatever
 * retries happened, while what earlier runs made stays theirs.
 */
export async function createDueMessages(
  sql: Sql,
  plan: CompanyPlan,
  now: string,
  runId: string,
): Promise<CreatedMessages> {
  const rows = await sql<
    { region: string | null; created: number; due: number; channels: Channel[]; run_created: number }[]
  >`
    with due as (
      select d.* from (${dueSteps(sql, { plan, now, dueBy: now })}) d
      where not ${stepHasMessage(sql)}
      -- in one order, so overlapping runs wait on each other's rows in turn and never deadlock
      order by d.appointment_id, d.step
    ),
    created as (
      insert into messages (company_id, customer_id, location_id, contact_id, appointment_id, packet_id, channel,
                            template_name, plan_step, appointment_at, data, contact_at, expires_at, region)
      select company_id, customer_id, location_id, contact_id, appointment_id, packet_id, channel,
             template_name, step, appointment_at, data, due_at, appointment_at, region
      from due
      on conflict (appointment_id, plan_step, appointment_at) where appointment_at is not null and state <> 'cancelled'
      do nothing
      returning company_id, contact_id, appointment_id, appointment_at, region, channel
    ),
    enrolled as (
      insert into reminder_enrollments as e (company_id, contact_id, appointment_id, appointment_at)
      select distinct on (appointment_id) company_id, contact_id, appointment_id, appointment_at from created
      on conflict (appointment_id) do update
        set appointment_at = excluded.appointment_at, status = 'active', status_reason = null,
            enrolled_at = now(), last_response_at = null, completed_at = null
        where e.appointment_at is distinct from excluded.appointment_at and e.status <> 'opted_out'
    ),
    ${runCount(sql, plan.companyId, now, runId)}
    -- what was due before (the statement's snapshot holds none of its own rows) and what it made: in the
    -- same round trip, as the run starts its regions from this
    due_now as (
      select region, channel, false as made from messages
      where company_id = ${plan.companyId} and state = 'scheduled' and contact_at <= ${now}
      union all
      select region, channel, true from created
    ),
    regions as (
      select region, (count(*) filter (where made))::int as created, count(*)::int as due,
             array_agg(distinct channel::text order by channel::text) as channels
      from due_now group by region
    )
    -- one row even when nothing is due, for the run's count
    select r.*, c.created::int as run_created from counted c left join regions r on true order by r.region`;
  const due = rows.flatMap(({ region, ...r }) => (region === null ? [] : [{ ...r, region }]));
  const made = due.filter((r) => r.created > 0);
  return {
    created: made.reduce((sum, r) => sum + r.created, 0),
    // the statement always returns one row: `counted` has one, and the regions join onto it
    runCreated: rows[0]!.run_created,
    byRegion: Object.fromEntries(made.map((r) => [r.region, r.created])),
    due: due.map(({ region, due, channels }) => ({ region, due, channels })),
  };
}

/**
 * The statement's part for its run: `counted` adds what `created` made to the run's row and returns
 * the run's total (the row is locked until commit, so two attempts at once add in turn); the
 * company's rows older than a week are forgotten (its own row is kept: one statement must not both
 * delete and update a row).
 */
function runCount(sql: Sql, companyId: number, now: string, runId: string) {
  return sql`
    counted as (
      insert into reminder_runs as r (company_id, run_id, run_at, created)
      select ${companyId}, ${runId}, ${now}, (select count(*) from created)
      on conflict (company_id, run_id) do update set created = r.created + excluded.created
      returning created
    ),
    forgotten as (
      delete from reminder_runs
      where company_id = ${companyId} and run_id <> ${runId} and recorded_at < now() - interval '7 days'
    ),`;
}
