// The reminder run's first step: a message row for every plan step that has fallen due and has none, and its appointment enrolled.
import type { Sql } from '../db';
import { dueSteps, stepHasMessage, type CompanyPlan } from './due-steps';

export interface CreatedMessages {
  created: number;
  /** how many each region got */
  byRegion: Record<string, number>;
}

/**
 * One statement, so a retried activity or two overlapping runs make each step once per appointment
 * time: what already has its message is left out, and a concurrent run's uncommitted insert of the
 * same step is waited for and then skipped (ON CONFLICT on messages_step_once).
 *
 * The appointment's drip enrollment follows its first message for a time: a new one is active; one
 * that stopped for an earlier time (the person confirmed, cancelled or asked to reschedule) starts
 * again for the new time; an opt-out stays.
 */
export async function createDueMessages(sql: Sql, plan: CompanyPlan, now: string): Promise<CreatedMessages> {
  if (plan.steps.length === 0) return { created: 0, byRegion: {} };
  const rows = await sql<{ region: string; n: number }[]>`
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
      returning company_id, contact_id, appointment_id, appointment_at, region
    ),
    enrolled as (
      insert into reminder_enrollments as e (company_id, contact_id, appointment_id, appointment_at)
      select distinct on (appointment_id) company_id, contact_id, appointment_id, appointment_at from created
      on conflict (appointment_id) do update
        set appointment_at = excluded.appointment_at, status = 'active', status_reason = null,
            enrolled_at = now(), last_response_at = null, completed_at = null
        where e.appointment_at is distinct from excluded.appointment_at and e.status <> 'opted_out'
    )
    select region, count(*)::int as n from created group by region order by region`;
  const byRegion = Object.fromEntries(rows.map((r) => [r.region, r.n]));
  return { created: rows.reduce((sum, r) => sum + r.n, 0), byRegion };
}
