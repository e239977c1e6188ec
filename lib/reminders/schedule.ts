// A company's reminder-run Temporal Schedule, made from its settings: every N minutes and/or daily at company-local times.
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleSpec,
} from '@temporalio/client';
import type { Sql } from '../db';
import { SA, SCHEDULE_IDS, TASK_QUEUES, WORKFLOW_IDS } from '../names';
import { parseReminderSettings, type ReminderSchedule } from '../../schemas/reminder-settings';
import type { ReminderRunInput } from '../../workflows/reminder-run';

export interface ReminderScheduleState {
  scheduleId: string;
  change: 'created' | 'updated' | 'none';
  paused: boolean;
  note?: string;
  everyMinutes: number | null;
  dailyAt: string[];
  timezone: string;
  nextRuns: string[];
  recentRuns: { scheduledAt: string; workflowId: string }[];
}

export function reminderScheduleSpec(s: ReminderSchedule, timezone: string): ScheduleSpec {
  return {
    intervals: s.everyMinutes ? [{ every: `${s.everyMinutes}m` }] : [],
    calendars: s.dailyAt.map((t) => {
      const [hour, minute] = t.split(':').map(Number);
      return { hour: hour!, minute: minute! };
    }),
    // calendars are read in the company's zone, so 09:00 stays 09:00 across daylight saving
    timezone,
  };
}

export async function loadScheduleSettings(
  sql: Sql,
  companyAlias: string,
): Promise<{ schedule: ReminderSchedule; timezone: string }> {
  const [company] = await sql<
    { timezone: string; settings: unknown }[]
  >`select timezone, settings from companies where alias = ${companyAlias}`;
  if (!company) throw new Error(`no company has the alias "${companyAlias}"`);
  return { schedule: parseReminderSettings(company.settings).schedule, timezone: company.timezone };
}

function describeState(
  scheduleId: string,
  change: ReminderScheduleState['change'],
  d: ScheduleDescription,
  s: ReminderSchedule,
  timezone: string,
): ReminderScheduleState {
  return {
    scheduleId,
    change,
    paused: d.state.paused,
    note: d.state.note,
    everyMinutes: s.everyMinutes,
    dailyAt: s.dailyAt,
    timezone,
    nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
    recentRuns: d.info.recentActions.slice(-5).map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      workflowId: a.action.type === 'startWorkflow' ? a.action.workflow.workflowId : '',
    })),
  };
}

/** The note of a pause the settings made: only such a pause is lifted when `paused` leaves the settings. */
export const SETTINGS_PAUSE_NOTE = 'paused in the company settings';

/** A resume asked from the CLI while the company settings say `paused: true`: the settings win. */
export class PausedBySettingsError extends Error {
  constructor(companyAlias: string) {
    super(
      `${companyAlias}'s reminder settings say paused: true; remove it from the settings and run \`herald reminders schedule --company ${companyAlias}\` to resume`,
    );
    this.name = 'PausedBySettingsError';
  }
}

/**
 * Whether the schedule is paused after a sync, and why. Each pause is lifted by whoever made it:
 * `paused: true` in the settings pauses, and removing it resumes a pause the settings made; a pause
 * made from the CLI (any other note) survives every sync until `--resume`.
 */
export function syncedPause(
  settingsPaused: boolean,
  current: { paused: boolean; note?: string },
): { paused: boolean; note?: string } {
  if (settingsPaused) return { paused: true, note: current.paused ? current.note : SETTINGS_PAUSE_NOTE };
  if (current.paused && current.note === SETTINGS_PAUSE_NOTE)
    return { paused: false, note: 'resumed: paused was removed from the company settings' };
  return current;
}

/** Creates the schedule, or brings it in line with the company's settings (pauses as `syncedPause` says). */
export async function ensureReminderSchedule(
  client: Client,
  sql: Sql,
  companyAlias: string,
  opts: { taskQueue?: string; override?: Partial<ReminderSchedule> } = {},
): Promise<ReminderScheduleState> {
  const loaded = await loadScheduleSettings(sql, companyAlias);
  const s = { ...loaded.schedule, ...opts.override };
  const scheduleId = SCHEDULE_IDS.reminders(companyAlias);
  const handle = client.schedule.getHandle(scheduleId);
  const args: [ReminderRunInput] = [{ companyAlias }];
  const options = {
    spec: reminderScheduleSpec(s, loaded.timezone),
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'reminderRun',
      // Temporal appends the scheduled time, so every run has its own id (and its own clock)
      workflowId: WORKFLOW_IDS.reminderRun(companyAlias, 'scheduled'),
      taskQueue: opts.taskQueue ?? TASK_QUEUES.pipeline,
      args,
      typedSearchAttributes: [{ key: SA.CompanyAlias, value: companyAlias }],
      staticSummary: `Reminder run of ${companyAlias}`,
    },
    // a run still sending when the next is due is not overlapped; after an outage only recent misses run
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${s.catchupWindowMinutes}m` as const },
    typedSearchAttributes: [{ key: SA.CompanyAlias, value: companyAlias }],
  };
  const existing = await handle.describe().catch((err: unknown) => {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  });
  if (!existing) {
    await client.schedule.create({
      scheduleId,
      ...options,
      state: {
        paused: s.paused,
        note: s.paused ? SETTINGS_PAUSE_NOTE : `reminders of ${companyAlias}`,
      },
    });
    return describeState(scheduleId, 'created', await handle.describe(), s, loaded.timezone);
  }
  await handle.update((prev) => ({
    ...prev,
    ...options,
    state: { ...prev.state, ...syncedPause(s.paused, { paused: prev.state.paused, note: prev.state.note }) },
  }));
  return describeState(scheduleId, 'updated', await handle.describe(), s, loaded.timezone);
}

export async function pauseReminderSchedule(
  client: Client,
  companyAlias: string,
  note: string,
): Promise<void> {
  await client.schedule.getHandle(SCHEDULE_IDS.reminders(companyAlias)).pause(note);
}

/** Resumes a pause made from the CLI; refused while the company settings say `paused: true`. */
export async function resumeReminderSchedule(
  client: Client,
  sql: Sql,
  companyAlias: string,
  note: string,
): Promise<void> {
  if ((await loadScheduleSettings(sql, companyAlias)).schedule.paused)
    throw new PausedBySettingsError(companyAlias);
  await client.schedule.getHandle(SCHEDULE_IDS.reminders(companyAlias)).unpause(note);
}

export async function showReminderSchedule(
  client: Client,
  sql: Sql,
  companyAlias: string,
): Promise<ReminderScheduleState | undefined> {
  const loaded = await loadScheduleSettings(sql, companyAlias);
  const scheduleId = SCHEDULE_IDS.reminders(companyAlias);
  const d = await client.schedule
    .getHandle(scheduleId)
    .describe()
    .catch((err: unknown) => {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    });
  return d ? describeState(scheduleId, 'none', d, loaded.schedule, loaded.timezone) : undefined;
}
