// Activities of a reminder run: prepare it (the company, the messages of steps now due, its regions with due messages), screen due messages page by page.
import { ApplicationFailure } from '@temporalio/common';
import { createDueMessages, type DueRegion } from '../lib/messages/create-due';
import { companyPlanOf, InvalidReminderPlan } from '../lib/messages/due-steps';
import { screenDuePage, type ScreenPageInput, type ScreenPageResult } from '../lib/reminders/screen-page';
import { DEFAULT_QUIET_HOURS_POLICY } from '../schemas/reminder-settings';
import { activityLog } from './activity-log';
import type { ActivityDeps } from './deps';

export type { PageCursor, ScreenCounts, ScreenPageResult } from '../lib/reminders/screen-page';

// a region's channels: it reads their routes while it screens
export type { DueRegion };

export interface PreparedRun {
  companyId: number;
  active: boolean;
  /**
   * messages this run made for plan steps that fell due, over all its attempts: an attempt that
   * committed and was then retried counts in the retry's answer too; messages of other runs do not
   */
  created: number;
  regions: DueRegion[];
}

export function createReminderActivities({
  sql,
  runSql = sql,
  log,
  quietHours,
}: Pick<ActivityDeps, 'sql' | 'runSql' | 'log' | 'quietHours'>) {
  const policy = quietHours ?? DEFAULT_QUIET_HOURS_POLICY;
  return {
    /**
     * The run's first step, in one activity so a run reaches its regions in one round trip: the
     * company, a message for every step of its plan due by `now` that has none yet, and the regions
     * holding due messages (each gets a child workflow on its own task queue). `runId` is the run's
     * Temporal run id, which its attempts share: what it made is counted under it (`created`).
     */
    async prepareReminderRun(input: {
      companyAlias: string;
      now: string;
      runId: string;
    }): Promise<PreparedRun> {
      const [company] = await sql<
        { id: number; active: boolean; alias: string; timezone: string; settings: unknown }[]
      >`select id, active, alias, timezone, settings from companies where alias = ${input.companyAlias}`;
      if (!company)
        throw ApplicationFailure.nonRetryable(
          `no company has the alias "${input.companyAlias}"`,
          'UnknownCompany',
        );
      if (!company.active) return { companyId: company.id, active: false, created: 0, regions: [] };
      let plan;
      try {
        plan = companyPlanOf(company);
      } catch (err) {
        // settings that do not parse are the company's to fix, not an outage to retry
        if (err instanceof InvalidReminderPlan) throw ApplicationFailure.nonRetryable(err.message, err.name);
        throw err;
      }
      const made = await createDueMessages(runSql, plan, input.now, input.runId);
      const created = made.runCreated;
      activityLog(log, { companyId: company.id }).debug(
        { created, createdByThisAttempt: made.created, regions: made.due },
        'reminder run prepared',
      );
      return { companyId: company.id, active: true, created, regions: made.due };
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
