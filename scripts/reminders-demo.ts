// `npm start`'s reminders: the demo company's schedule, two reminder runs on a simulated clock, and the provider's side in between.
import type { App } from '../lib/app';
import { loadCompanyPlan } from '../lib/messages/due-steps';
import { upcomingReminders } from '../lib/messages/upcoming';
import { SA, TASK_QUEUES, WORKFLOW_IDS } from '../lib/names';
import { describeRun } from '../lib/reminders/run-summary';
import { ensureReminderSchedule } from '../lib/reminders/schedule';
import { workflowUiUrl } from '../lib/temporal';
import { reminderRun } from '../workflows';
import {
  describeReplies,
  simulateProviderTraffic,
  startDemoIngress,
  type DemoIngress,
} from './simulate-callbacks';

/** Region queues the main job hosts, so reminder runs (scheduled or from the CLI) find workers. */
export async function regionQueues(app: App): Promise<string[]> {
  const rows = await app.sql<
    { task_queue: string }[]
  >`select task_queue from regions where active order by code`;
  return rows.map((r) => r.task_queue);
}

async function runAt(app: App, companyAlias: string, now: Date): Promise<string[]> {
  const client = await app.client();
  const workflowId = WORKFLOW_IDS.reminderRun(companyAlias, `demo-${now.toISOString()}`);
  const handle = await client.workflow.start(reminderRun, {
    taskQueue: TASK_QUEUES.pipeline,
    workflowId,
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [{ companyAlias, now: now.toISOString() }],
    typedSearchAttributes: [{ key: SA.CompanyAlias, value: companyAlias }],
    staticSummary: `Reminder run of ${companyAlias} (npm start, simulated clock)`,
  });
  const summary = await handle.result();
  const link = workflowUiUrl(app.temporal, workflowId, handle.firstExecutionRunId);
  return [...describeRun(summary), ...(link ? [`  workflow    ${link}`] : [])];
}

export interface ReminderDemo {
  lines: string[];
  ingress?: DemoIngress;
}

/**
 * The sample appointments lie in the future, so nothing is due by the wall clock: the runs take
 * their clock as input (as every reminder run does) and are run as of the first reminders' day,
 * then two days later, after the provider's callbacks and the people's replies came in.
 */
export async function reminderDemo(
  app: App,
  companyAlias: string,
  samplePackets: string[],
): Promise<ReminderDemo> {
  const client = await app.client();
  const schedule = await ensureReminderSchedule(client, app.sql, companyAlias);
  const lines = [
    `Reminder schedule ${schedule.scheduleId} (${schedule.change}): ${schedule.everyMinutes ? `every ${schedule.everyMinutes} minutes` : ''}` +
      `${schedule.dailyAt.length ? ` daily at ${schedule.dailyAt.join(', ')}` : ''}, ${schedule.paused ? 'paused' : `next ${schedule.nextRuns[0] ?? '-'}`}`,
  ];
  // a run on a simulated clock would send every reminder due by then: only ever over the samples' rows
  const [foreign] = await app.sql<{ n: number }[]>`
    select count(*)::int as n from appointments a join companies c on c.id = a.company_id
    where c.alias = ${companyAlias}
      and (a.last_packet_id is null
           or a.last_packet_id not in (select id from data_packets where uuid = any(${samplePackets}::uuid[])))`;
  if (foreign!.n > 0) {
    return {
      lines: [
        ...lines,
        `${companyAlias} also holds ${foreign!.n} appointments that did not come from the samples, so the ` +
          'demo runs no reminders on a simulated clock (they would send yours). ' +
          `Run them by the real clock: herald reminders run --company ${companyAlias}`,
      ],
    };
  }
  const [company] = await app.sql<{ id: number }[]>`select id from companies where alias = ${companyAlias}`;
  const plan = company ? await loadCompanyPlan(app.sql, company.id) : undefined;
  const now = new Date();
  const [first] = plan
    ? await upcomingReminders(app.sql, plan, {
        from: now.toISOString(),
        to: new Date(now.getTime() + 365 * 86_400_000).toISOString(),
        now: now.toISOString(),
        limit: 1,
      })
    : [];
  if (!first) return { lines: [...lines, 'No reminders are coming, so there is nothing to run.'] };

  const day1 = new Date(first.at.getTime() + 86_400_000);
  lines.push(`Reminder run on a simulated clock, ${day1.toISOString()} (the first reminders' next day):`);
  lines.push(...(await runAt(app, companyAlias, day1)));
  const ingress = await startDemoIngress(app);
  lines.push(...(await simulateProviderTraffic(app, ingress, companyAlias)));
  const day3 = new Date(day1.getTime() + 2 * 86_400_000);
  lines.push(
    `Reminder run two days later, ${day3.toISOString()} (the STOP and the confirmation are honoured):`,
  );
  lines.push(...(await runAt(app, companyAlias, day3)));
  lines.push(...(await describeReplies(app, companyAlias)));
  return { lines, ingress };
}
