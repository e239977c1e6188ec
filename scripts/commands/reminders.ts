// CLI commands for reminders: run a company's reminders now, manage its schedule, and keep its opt-out list by hand.
import type { Command } from 'commander';
import { withActor } from '../../lib/db';
import { cleanEmail } from '../../lib/clean/email';
import { cleanPhone } from '../../lib/clean/phone';
import { regionTaskQueue, SA, TASK_QUEUES, WORKFLOW_IDS } from '../../lib/names';
import { findContacts, optIn, optOut } from '../../lib/reminders/consent';
import type { Channel } from '../../lib/reminders/quiet-hours';
import { describeRun } from '../../lib/reminders/run-summary';
import {
  ensureReminderSchedule,
  pauseReminderSchedule,
  resumeReminderSchedule,
  showReminderSchedule,
  type ReminderScheduleState,
} from '../../lib/reminders/schedule';
import { workflowUiUrl } from '../../lib/temporal';
import { reminderRun } from '../../workflows';
import { reminderRunProgressQuery, type ReminderRunSummary } from '../../workflows/reminder-run';
import { EXIT, print, UsageError, withApp } from '../cli-kit';
import { waitForWorkflow, parseTimeout } from '../wait-for-workflow';

function parseInstant(value: string | undefined): string {
  if (value === undefined) return new Date().toISOString();
  const at = new Date(value);
  if (Number.isNaN(at.getTime()))
    throw new UsageError(`--now must be an ISO instant such as 2027-01-15T17:00:00Z (got "${value}")`);
  return at.toISOString();
}

function describeSchedule(s: ReminderScheduleState): string[] {
  const when = [
    s.everyMinutes ? `every ${s.everyMinutes} minutes` : '',
    s.dailyAt.length ? `daily at ${s.dailyAt.join(', ')} ${s.timezone}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  return [
    `schedule ${s.scheduleId}${s.change === 'none' ? '' : ` (${s.change})`}: ${when}, ${s.paused ? `PAUSED${s.note ? ` (${s.note})` : ''}` : 'active'}`,
    `  next runs   ${s.nextRuns.join(', ') || 'none'}`,
    ...s.recentRuns.map((r) => `  ran         ${r.scheduledAt}  ${r.workflowId}`),
  ];
}

const CHANNEL_CHOICES: Record<string, Channel[]> = {
  sms: ['sms'],
  voice: ['voice'],
  email: ['email'],
  all: ['sms', 'voice', 'email'],
};

function target(opts: { phone?: string; email?: string; channel?: string }): {
  phone?: string;
  email?: string;
  channels: Channel[];
} {
  if (!opts.phone === !opts.email) throw new UsageError('give exactly one of --phone or --email');
  const phone = opts.phone === undefined ? undefined : cleanPhone(opts.phone);
  if (phone && !phone.ok) throw new UsageError(`--phone: ${phone.reason}`);
  const email = opts.email === undefined ? undefined : cleanEmail(opts.email);
  if (email && !email.ok) throw new UsageError(`--email: ${email.reason}`);
  const channels = CHANNEL_CHOICES[opts.channel ?? (opts.phone ? 'sms' : 'email')];
  if (!channels) throw new UsageError('--channel must be sms, voice, email or all');
  return {
    phone: phone?.ok ? (phone.value ?? undefined) : undefined,
    email: email?.ok ? (email.value ?? undefined) : undefined,
    channels,
  };
}

async function companyId(sql: import('../../lib/db').Sql, alias: string): Promise<number> {
  const [company] = await sql<{ id: number }[]>`select id from companies where alias = ${alias}`;
  if (!company) throw new UsageError(`no company has the alias "${alias}"`);
  return company.id;
}

/** The contacts of `--company` that `--phone` or `--email` names, and the channels asked for; a usage error if none. */
async function targetContacts(
  sql: import('../../lib/db').Sql,
  opts: { company: string; phone?: string; email?: string; channel?: string },
): Promise<{ companyId: number; contactIds: number[]; channels: Channel[] }> {
  const t = target(opts);
  const id = await companyId(sql, opts.company);
  const contactIds = await findContacts(sql, id, t);
  if (!contactIds.length)
    throw new UsageError(
      `no contact of ${opts.company} has that ${t.phone ? 'phone number' : 'email address'}`,
    );
  return { companyId: id, contactIds, channels: t.channels };
}

export function registerReminderCommands(program: Command): void {
  const reminders = program.command('reminders').description('reminder runs and their schedules');

  reminders
    .command('run')
    .description(
      "run a company's reminders now and wait for the summary (needs workers for its regions: npm start or npm run worker)",
    )
    .requiredOption('--company <alias>', 'the company alias')
    .option(
      '--now <iso>',
      "the run's clock: what is due, and the local time quiet hours look at (default: now)",
    )
    .option('--timeout <seconds>', 'stop waiting after this long (exit 1; the run goes on)')
    .option('--json', 'print as JSON')
    .action((opts: { company: string; now?: string; timeout?: string; json?: boolean }) =>
      withApp({}, async (app) => {
        const now = parseInstant(opts.now);
        const timeoutSeconds = parseTimeout(opts.timeout);
        const client = await app.client();
        const workflowId = WORKFLOW_IDS.reminderRun(opts.company, now);
        // the same --now twice joins the run already going instead of starting a second one
        const handle = await client.workflow.start(reminderRun, {
          taskQueue: TASK_QUEUES.pipeline,
          workflowId,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [{ companyAlias: opts.company, now }],
          typedSearchAttributes: [{ key: SA.CompanyAlias, value: opts.company }],
          staticSummary: `Reminder run of ${opts.company} (herald reminders run)`,
        });
        // a region whose queue no worker hosts waits there: the wait says so, instead of hanging silently
        const regionsRunning = new Set<string>();
        const progress = setInterval(() => {
          void handle
            .query(reminderRunProgressQuery)
            .then((p) => {
              for (const [region, s] of Object.entries(p.regions))
                if (s === 'running') regionsRunning.add(region);
                else regionsRunning.delete(region);
            })
            .catch(() => {});
        }, 2_000);
        const summary = await waitForWorkflow<ReminderRunSummary>({
          client,
          namespace: app.temporal.namespace,
          handle,
          what: `the reminder run of ${opts.company}`,
          taskQueues: () => [TASK_QUEUES.pipeline, ...[...regionsRunning].map(regionTaskQueue)],
          timeoutSeconds,
        }).finally(() => clearInterval(progress));
        print(!!opts.json, summary, () => [
          ...describeRun(summary),
          workflowUiUrl(app.temporal, workflowId) ?? '',
        ]);
        return summary.failed.length ? EXIT.failed : EXIT.ok;
      }),
    );

  reminders
    .command('schedule')
    .description(
      "create or update a company's reminder schedule from its settings, or pause, resume or show it",
    )
    .requiredOption('--company <alias>', 'the company alias')
    .option('--pause', 'pause the schedule (runs stop until --resume)')
    .option('--resume', 'resume a pause made with --pause (refused while the settings say paused)')
    .option('--show', 'only show the schedule')
    .option('--json', 'print as JSON')
    .action((opts: { company: string; pause?: boolean; resume?: boolean; show?: boolean; json?: boolean }) =>
      withApp({}, async (app) => {
        if ([opts.pause, opts.resume, opts.show].filter(Boolean).length > 1)
          throw new UsageError('give at most one of --pause, --resume, --show');
        const client = await app.client();
        if (opts.pause) await pauseReminderSchedule(client, opts.company, `paused by ${app.config.actor}`);
        if (opts.resume)
          await resumeReminderSchedule(client, app.sql, opts.company, `resumed by ${app.config.actor}`);
        const state =
          opts.pause || opts.resume || opts.show
            ? await showReminderSchedule(client, app.sql, opts.company)
            : await ensureReminderSchedule(client, app.sql, opts.company);
        if (!state)
          throw new UsageError(
            `${opts.company} has no reminder schedule yet: run without --show to create it`,
          );
        print(!!opts.json, state, () => describeSchedule(state));
      }),
    );

  const optout = program.command('optout').description("a company's do-not-contact list, kept by hand");
  const who = (c: Command) =>
    c
      .requiredOption('--company <alias>', 'the company alias')
      .option('--phone <number>', 'the phone number (any common format)')
      .option('--email <address>', 'the email address')
      .option(
        '--channel <channel>',
        'sms, voice, email or all (default: sms for a phone, email for an address)',
      );

  who(
    optout
      .command('add')
      .description('opt a person out: pending messages on the channel are skipped at once'),
  )
    .option('--reason <text>', 'why, kept on every skipped message', 'asked an operator')
    .action((opts: { company: string; phone?: string; email?: string; channel?: string; reason: string }) =>
      withApp({}, async (app) => {
        const who = await targetContacts(app.sql, opts);
        const result = await withActor(app.sql, app.config.actor, (tx) =>
          optOut(tx, { ...who, reason: `${opts.reason} (herald optout add by ${app.config.actor})` }),
        );
        print(false, result, () => [
          `opted out ${who.contactIds.length} contact(s) of ${who.channels.join(', ')}; ${result.skipped} pending message(s) skipped`,
        ]);
      }),
    );

  who(
    optout.command('remove').description('opt a person back in (messages already skipped stay skipped)'),
  ).action((opts: { company: string; phone?: string; email?: string; channel?: string }) =>
    withApp({}, async (app) => {
      const who = await targetContacts(app.sql, opts);
      const n = await withActor(app.sql, app.config.actor, (tx) => optIn(tx, who));
      print(false, { contacts: n }, () => [`opted ${n} contact(s) back in to ${who.channels.join(', ')}`]);
    }),
  );

  optout
    .command('list')
    .description('contacts of a company that opted out of any channel')
    .requiredOption('--company <alias>', 'the company alias')
    .option('--json', 'print as JSON')
    .action((opts: { company: string; json?: boolean }) =>
      withApp({}, async (app) => {
        const id = await companyId(app.sql, opts.company);
        const rows = await app.sql<
          {
            id: number;
            phone_e164: string | null;
            email: string | null;
            do_not_sms: boolean;
            do_not_call: boolean;
            do_not_email: boolean;
            opted_out_at: Date | null;
          }[]
        >`
          select id, phone_e164, email, do_not_sms, do_not_call, do_not_email, opted_out_at from contacts
          where company_id = ${id} and (do_not_sms or do_not_call or do_not_email) order by opted_out_at desc nulls last, id`;
        print(!!opts.json, rows, () => [
          `${rows.length} contact(s) of ${opts.company} opted out`,
          ...rows.map((r) => {
            const what = [r.do_not_sms && 'sms', r.do_not_call && 'voice', r.do_not_email && 'email']
              .filter(Boolean)
              .join(', ');
            return `  ${String(r.id).padEnd(8)} ${(r.phone_e164 ?? '-').padEnd(14)} ${(r.email ?? '-').padEnd(32)} ${what}  ${r.opted_out_at?.toISOString() ?? ''}`;
          }),
        ]);
      }),
    );
}
