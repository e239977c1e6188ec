// CLI commands of the archive: run it now (with progress and counts), and create or update its nightly schedule.
import { WorkflowFailedError } from '@temporalio/client';
import { InvalidArgumentError, type Command } from 'commander';
import { ensureArchiveSchedule } from '../../lib/archive/schedule';
import { SA, TASK_QUEUES, WORKFLOW_IDS } from '../../lib/names';
import { workflowUiUrl } from '../../lib/temporal';
import { archiveMessages } from '../../workflows';
import { archiveProgressQuery, type ArchiveTotals } from '../../workflows/archive-messages';
import { print, UsageError, withApp } from '../cli-kit';
import { rootCause, watchProgress } from '../watch-progress';

function parseInstant(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (Number.isNaN(at.getTime()))
    throw new UsageError(
      `--now must be an ISO date or instant such as 2025-01-31T03:00:00Z (got "${value}")`,
    );
  return at.toISOString();
}

export function describeTotals(t: ArchiveTotals): string[] {
  return [
    `companies      ${t.companies}`,
    `messages       ${t.messages} moved to messages_history (${t.updates} updates to message_updates_history)`,
    `exported       ${t.objects} objects, ${t.bytes} bytes (gzip NDJSON) in ${t.batches} batches`,
    `purged         ${t.packetEvents} packet events, ${t.auditRows} audit rows, ${t.webhookDeliveries} webhook deliveries`,
    `packet files   ${t.packetFiles ?? 0} packets' raw files and rejects reports, ${t.rejectedRows ?? 0} rejected rows`,
    `histories      ${t.histories} workflow histories exported`,
  ];
}

export function registerArchiveCommands(program: Command): void {
  const archive = program
    .command('archive')
    .description(
      'move final messages past retention to history and S3, purge old logs, export workflow histories',
    );

  archive
    .command('run')
    .description(
      'run the archive workflow now and print what it moved (needs a running worker: npm start or npm run worker)',
    )
    .option('--now <instant>', 'measure retention from this instant instead of now (ISO 8601)')
    .option('--company <alias>', 'only this company')
    .option('--batch-size <n>', 'messages per batch', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 10_000)
        throw new InvalidArgumentError('must be a whole number from 1 to 10000');
      return n;
    })
    .option('--no-histories', 'do not export finished workflow histories')
    .option('--json', 'print the counts as JSON')
    .action(
      (opts: { now?: string; company?: string; batchSize?: number; histories: boolean; json?: boolean }) =>
        withApp({}, async (app) => {
          const now = parseInstant(opts.now);
          const client = await app.client();
          const handle = await client.workflow.start(archiveMessages, {
            taskQueue: TASK_QUEUES.pipeline,
            workflowId: WORKFLOW_IDS.archive(`manual/${opts.company ?? 'all'}/${new Date().toISOString()}`),
            args: [
              {
                now,
                companyAlias: opts.company,
                batchSize: opts.batchSize ?? app.config.archive.batchSize,
                exportHistories: opts.histories,
              },
            ],
            typedSearchAttributes: opts.company ? [{ key: SA.CompanyAlias, value: opts.company }] : [],
            staticSummary: `Archive run${opts.company ? ` of ${opts.company}` : ''}${now ? ` as of ${now}` : ''}`,
          });
          const stopWatching = watchProgress(async () => {
            const p = await handle.query(archiveProgressQuery);
            return `archive: ${p.step}${p.company ? ` (${p.company})` : ''}, companies ${p.companiesDone}/${p.companiesTotal}, ${p.totals.messages} messages moved`;
          });
          const totals = await handle
            .result()
            .catch((err: unknown) => {
              // the person wants the activity's reason, not "Workflow execution failed"
              if (err instanceof WorkflowFailedError) throw new Error(rootCause(err), { cause: err });
              throw err;
            })
            .finally(stopWatching);
          const link = workflowUiUrl(app.temporal, handle.workflowId);
          print(!!opts.json, { workflowId: handle.workflowId, ...totals }, () => [
            ...describeTotals(totals),
            ...(link ? [`workflow       ${link}`] : []),
          ]);
        }),
    );

  archive
    .command('schedule')
    .description('create the nightly archive schedule, or bring it in line with ARCHIVE_CRON / --cron')
    .option('--cron <expression>', 'five-field cron in UTC (default ARCHIVE_CRON)')
    .option('--json', 'print as JSON')
    .action((opts: { cron?: string; json?: boolean }) =>
      withApp({}, async (app) => {
        const cron = opts.cron ?? app.config.archive.cron;
        if (!/^\S+( \S+){4}$/.test(cron))
          throw new UsageError(`--cron must have five fields, e.g. "0 3 * * *" (got "${cron}")`);
        const state = await ensureArchiveSchedule(await app.client(), {
          cron,
          batchSize: app.config.archive.batchSize,
        });
        print(!!opts.json, state, () => [
          `schedule ${state.scheduleId}: ${state.cron} (UTC)${state.created ? ', created' : state.updated ? ', updated' : ', unchanged'}`,
          `next runs ${state.nextRuns.join(', ')}`,
        ]);
      }),
    );
}
