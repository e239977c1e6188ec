// CLI commands about the platform itself: migrate, show the runtime, check a company's readiness.
import type { Command } from 'commander';
import { SA, TASK_QUEUES, WORKFLOW_IDS } from '../../lib/names';
import { setUpDatabase } from '../../lib/setup-database';
import { workflowUiUrl } from '../../lib/temporal';
import { checkCompanyReadiness } from '../../workflows';
import type { ReadinessResult } from '../../workflows/check-company-readiness';
import { EXIT, print, withApp } from '../cli-kit';
import { parseTimeout, waitForWorkflow } from '../wait-for-workflow';
import { describeRuntime } from '../describe-runtime';

export function registerRuntimeCommands(program: Command): void {
  program
    .command('migrate')
    .description('apply pending SQL migrations and record load-map files (a no-op when up to date)')
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }) =>
      withApp({}, async (app) => {
        const result = await setUpDatabase(app.sql);
        print(!!opts.json, result, () => [
          result.applied.length ? `applied ${result.applied.join(', ')}` : 'schema is up to date',
          `${result.alreadyApplied} migrations were already applied`,
          ...result.loadMaps.map(
            (m) => `load map ${m.company}/${m.name} v${m.version}${m.changed ? ' (new)' : ''}`,
          ),
        ]);
      }),
    );

  program
    .command('runtime')
    .description('show which Postgres, Temporal and S3 herald uses (starting embedded ones if none run)')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) =>
      withApp({}, async (app) => {
        print(!!opts.json, { ...app.runtime, stop: undefined }, () => describeRuntime(app));
      }),
    );

  program
    .command('check')
    .description(
      'run the readiness check workflow for a company (needs a running worker: npm start or npm run worker)',
    )
    .requiredOption('--company <alias>', 'the company alias')
    .option('--timeout <seconds>', 'stop waiting after this long (exit 1; the check goes on)')
    .option('--json', 'print as JSON')
    .action((opts: { company: string; timeout?: string; json?: boolean }) =>
      withApp({}, async (app) => {
        const timeoutSeconds = parseTimeout(opts.timeout);
        const client = await app.client();
        const handle = await client.workflow.start(checkCompanyReadiness, {
          taskQueue: TASK_QUEUES.pipeline,
          workflowId: WORKFLOW_IDS.readinessCheck(opts.company, new Date().toISOString()),
          args: [{ companyAlias: opts.company }],
          typedSearchAttributes: [{ key: SA.CompanyAlias, value: opts.company }],
          staticSummary: `Readiness check of ${opts.company}`,
        });
        const result = await waitForWorkflow<ReadinessResult>({
          client,
          namespace: app.temporal.namespace,
          handle,
          what: `the readiness check of ${opts.company}`,
          taskQueues: () => [TASK_QUEUES.pipeline],
          timeoutSeconds,
        });
        print(!!opts.json, result, () => [
          `${result.companyAlias}: ${result.ready ? 'ready' : 'not ready: ' + result.problems.join('; ')}`,
          `report s3://${app.bucket}/${result.reportKey}`,
          workflowUiUrl(app.temporal, handle.workflowId) ?? '',
        ]);
        return result.ready ? EXIT.ok : EXIT.failed;
      }),
    );
}
