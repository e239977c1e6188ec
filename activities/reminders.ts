// Activities of a reminder run: find the company, make the messages of steps now due, find its regions with due messages, screen them page by page.
import { ApplicationFailure } from '@temporalio/common';
import { createDueMessages, type CreatedMessages } from '../lib/messages/create-due';
import { InvalidReminderPlan, loadCompanyPlan } from '../lib/messages/due-steps';
import { screenDuePage, type ScreenPageInput, type ScreenPageResult } from '../lib/reminders/screen-page';
import { DEFAULT_QUIET_HOURS_POLICY } from '../schemas/reminder-settings';
import { activityLog } from './activity-log';
import type { ActivityDeps } from './deps';

export type { PageCursor, ScreenCounts, ScreenPageResult } from '../lib/reminders/screen-page';
export type { CreatedMessages } from '../lib/messages/create-due';

export interface ReminderCompany {
  companyId: number;
  companyAlias: string;
  timezone: string;
  active: boolean;
}

export interface DueRegion {
  region: string;
  due: number;
}

export function createReminderActivities({
  sql,
  log,
  quietHours,
}: Pick<ActivityDeps, 'sql' | 'log' | 'quietHours'>) {
  const policy = quietHours ?? DEFAULT_QUIET_HOURS_POLICY;
  return {
    async findReminderCompany(input: { companyAlias: string }): Promise<ReminderCompany> {
      const [company] = await sql<{ id: number; timezone: string; active: boolean }[]>`
        select id, timezone, active from companies where alias = ${input.companyAlias}`;
      if (!company)
        throw ApplicationFailure.nonRetryable(
          `no company has the alias "${input.companyAlias}"`,
          'UnknownCompany',
        );
      return {
        companyId: company.id,
        companyAlias: input.companyAlias,
        timezone: company.timezone,
        active: company.active,
      };
    },

    /** A message for every step of the company's plan that has fallen due by `now` and has none yet. */
    async createDueMessages(input: { companyId: number; now: string }): Promise<CreatedMessages> {
      let plan;
      try {
        plan = await loadCompanyPlan(sql, input.companyId);
      } catch (err) {
        // settings that do not parse are the company's to fix, not an outage to retry
        if (err instanceof InvalidReminderPlan) throw ApplicationFailure.nonRetryable(err.message, err.name);
        throw err;
      }
      if (!plan)
        throw ApplicationFailure.nonRetryable(`no company has id ${input.companyId}`, 'UnknownCompany');
      const result = await createDueMessages(sql, plan, input.now);
      activityLog(log, { companyId: input.companyId }).debug(result, 'made the messages of due steps');
      return result;
    },

    /** Regions holding due messages of the company: each gets a child workflow on its own task queue. */
    async listDueRegions(input: { companyId: number; now: string }): Promise<DueRegion[]> {
      return sql<DueRegion[]>`
        select region, count(*)::int as due from messages
        where company_id = ${input.companyId} and state = 'scheduled' and contact_at <= ${input.now}
        group by region order by region`;
    },

    async screenDueMessages(input: ScreenPageInput): Promise<ScreenPageResult> {
      const result = await screenDuePage(sql, policy, input);
      activityLog(log, { companyId: input.companyId }).debug(
        {
          region: input.region,
          seen: result.seen,
          deferred: result.deferred,
          expired: result.expired,
          skipped: result.skipped,
        },
        'screened due messages',
      );
      return result;
    },
  };
}
