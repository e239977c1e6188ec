// Activities of a reminder run: find the company and its regions with due messages, and screen due messages page by page.
import { ApplicationFailure } from '@temporalio/common';
import { screenDuePage, type ScreenPageInput, type ScreenPageResult } from '../lib/reminders/screen-page';
import { DEFAULT_QUIET_HOURS_POLICY } from '../schemas/reminder-settings';
import { activityLog } from './activity-log';
import type { ActivityDeps } from './deps';

export type { PageCursor, ScreenCounts, ScreenPageResult } from '../lib/reminders/screen-page';

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
