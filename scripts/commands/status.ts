// `herald status`: one screen of what runs, what is stuck and what failed, per company; the task queues
// with their pollers and backlogs; the schedules; and send rates against each cap.
import type { Command } from 'commander';
import type { App } from '../../lib/app';
import { TASK_QUEUES } from '../../lib/names';
import { readPipelineState, type PipelineState } from '../../lib/ops/pipeline-state';
import { describeTaskQueue, type TaskQueueState } from '../../lib/ops/task-queues';
import { listActiveAccounts } from '../../lib/providers/accounts';
import { print, withApp } from '../cli-kit';

/** Stages a packet ends in; any other stage is work under way. */
const FINAL_PACKET_STAGES = new Set(['done', 'failed', 'cancelled']);

export interface HeraldStatus {
  companies: {
    company: string;
    packetsInProgress: number;
    packetsFailed: number;
    runningWorkflows: number;
    failedWorkflowsLastDay: number;
    messages: Record<string, number>;
  }[];
  taskQueues: TaskQueueState[];
  schedules: { id: string; paused: boolean; nextRun: string | null }[];
  caps: PipelineState['caps'];
  stuck: {
    dueMessages: number;
    oldestDueSeconds: number;
    webhookBacklog: number;
    oldestWebhookSeconds: number;
  };
}

export async function readStatus(app: App): Promise<HeraldStatus> {
  const client = await app.client();
  const { namespace } = app.temporal;
  const state = await readPipelineState(app.sql);
  const regions = await app.sql<{ task_queue: string }[]>`
    select task_queue from regions where active order by code`;
  const accounts = await listActiveAccounts(app.sql);
  const queueNames = [
    TASK_QUEUES.pipeline,
    ...regions.map((r) => r.task_queue),
    ...accounts.map((a) => a.taskQueue),
  ];
  const taskQueues = await Promise.all(queueNames.map((name) => describeTaskQueue(client, namespace, name)));

  const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
  const active = await app.sql<{ alias: string }[]>`select alias from companies where active order by alias`;
  const aliases = [
    ...new Set([...active.map((c) => c.alias), ...state.packets.map((p) => p.company)]),
  ].sort();
  const companies = await Promise.all(
    aliases.map(async (company) => {
      const [running, failed] = await Promise.all([
        client.workflow.count(`CompanyAlias = "${company}" AND ExecutionStatus = "Running"`),
        client.workflow.count(
          `CompanyAlias = "${company}" AND ExecutionStatus = "Failed" AND CloseTime > "${dayAgo}"`,
        ),
      ]);
      const packets = state.packets.filter((p) => p.company === company);
      return {
        company,
        packetsInProgress: packets
          .filter((p) => !FINAL_PACKET_STAGES.has(p.stage))
          .reduce((n, p) => n + p.count, 0),
        packetsFailed: packets.filter((p) => p.stage === 'failed').reduce((n, p) => n + p.count, 0),
        runningWorkflows: running.count,
        failedWorkflowsLastDay: failed.count,
        messages: Object.fromEntries(
          state.messages
            .filter((m) => m.company === company)
            .reduce((byState, m) => byState.set(m.state, (byState.get(m.state) ?? 0) + m.count), new Map()),
        ),
      };
    }),
  );

  const schedules: HeraldStatus['schedules'] = [];
  for await (const s of client.schedule.list()) {
    schedules.push({
      id: s.scheduleId,
      paused: s.state.paused,
      nextRun: s.info.nextActionTimes[0]?.toISOString() ?? null,
    });
  }
  schedules.sort((a, b) => a.id.localeCompare(b.id));

  return {
    companies,
    taskQueues,
    schedules,
    caps: state.caps,
    stuck: {
      dueMessages: state.due.count,
      oldestDueSeconds: Math.round(state.due.oldestSeconds),
      webhookBacklog: state.webhooks.reduce((n, w) => n + w.count, 0),
      oldestWebhookSeconds: Math.round(Math.max(0, ...state.webhooks.map((w) => w.oldestSeconds))),
    },
  };
}

function describeStatus(s: HeraldStatus): string[] {
  const pad = (text: string | number, width: number) => String(text).padEnd(width);
  return [
    'Companies            packets running/failed  workflows running/failed 24h  messages',
    ...s.companies.map(
      (c) =>
        `  ${pad(c.company, 18)} ${pad(`${c.packetsInProgress}/${c.packetsFailed}`, 22)} ${pad(
          `${c.runningWorkflows}/${c.failedWorkflowsLastDay}`,
          29,
        )} ${Object.entries(c.messages)
          .map(([state, n]) => `${state} ${n}`)
          .join(', ')}`,
    ),
    'Task queues          pollers  backlog',
    ...s.taskQueues.map(
      (q) =>
        `  ${pad(q.name, 32)} ${pad(q.pollers, 8)} ${q.backlog}${q.pollers === 0 ? '  (no worker!)' : ''}`,
    ),
    'Schedules',
    ...s.schedules.map((x) => `  ${pad(x.id, 40)} ${x.paused ? 'paused' : `next ${x.nextRun ?? '-'}`}`),
    'Send rates           sent/s (last minute)  cap/s  shares held',
    ...s.caps.map(
      (c) =>
        `  ${pad(`${c.account} (${c.channel})`, 24)} ${pad((c.sentLastMinute / 60).toFixed(2), 21)} ${pad(c.maxPerSecond, 6)} ${c.sharesHeld}`,
    ),
    'Stuck',
    `  due messages not sent  ${s.stuck.dueMessages} (oldest waited ${s.stuck.oldestDueSeconds} s)`,
    `  webhook backlog        ${s.stuck.webhookBacklog} (oldest ${s.stuck.oldestWebhookSeconds} s)`,
  ];
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('what runs, what is stuck and what failed per company; queues, schedules, send rates')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) =>
      withApp({}, async (app) => {
        const status = await readStatus(app);
        print(!!opts.json, status, () => describeStatus(status));
      }),
    );
}
