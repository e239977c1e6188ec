// `npm start`: the main job on the embedded defaults. Brings the runtime up, runs the pipeline, prints what happened.
import { parseArgs } from 'node:util';
import { createActivities } from '../activities';
import { openApp } from '../lib/app';
import { ensureArchiveSchedule } from '../lib/archive/schedule';
import { loadConfigOrExit } from '../lib/config';
import { createLogger } from '../lib/log';
import { SA, TASK_QUEUES, WORKFLOW_IDS } from '../lib/names';
import { syncConfiguredAccounts } from '../lib/providers/configured-accounts';
import { createProviderRegistry } from '../lib/providers/registry';
import { connectWorker, workflowUiUrl } from '../lib/temporal';
import { ensureWebhookDrainer } from '../lib/webhooks/drainer';
import { createWorkers, installTemporalLogging, runWorkers } from '../workers/create-workers';
import { configuredSendWorkers } from '../workers/send-workers';
import { workflowBundle } from '../workers/workflow-bundle';
import { checkCompanyReadiness } from '../workflows';
import { describeRuntime } from './describe-runtime';
import { ingestSamples } from './ingest-samples';
import { describeSending } from './dispatch-demo';
import { regionQueues, reminderDemo } from './reminders-demo';

const DEMO_COMPANY = 'demo-clinic';

const { values } = parseArgs({ options: { once: { type: 'boolean', default: false } } });
const config = loadConfigOrExit();
// a person watches `npm start`: warnings and progress only, the summary is printed below
const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
const say = (line = '') => process.stdout.write(line + '\n');

say('herald: starting the embedded runtime (Postgres, Temporal dev server, local S3)...');
const app = await openApp({ config, log, setUp: true, notice: (m) => say(`  ${m}`) }).catch((err: Error) => {
  process.stderr.write(`herald: ${err.message}\n`);
  process.exit(1);
});
installTemporalLogging(log);
const stop = new AbortController();
// `on`, not `once`: tsx exits at once when its own handler is the only one left
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop.abort());

let exitCode = 0;
try {
  for (const line of describeRuntime(app)) say(line);
  const connection = await connectWorker(app.temporal);
  await syncConfiguredAccounts(app.sql, config);
  const providers = createProviderRegistry({ sql: app.sql, config });
  const activities = createActivities({
    sql: app.sql,
    s3: app.s3,
    bucket: app.bucket,
    log,
    providers,
    quietHours: config.reminders.quietHours,
  });
  const workers = await createWorkers({
    connection,
    namespace: app.temporal.namespace,
    // the region queues too: reminder runs send each region's messages there
    taskQueues: [TASK_QUEUES.pipeline, ...(await regionQueues(app))],
    activities,
    workflowBundle: await workflowBundle(config.worker.workflowBundlePath),
  });
  workers.push(
    ...(await configuredSendWorkers({
      sql: app.sql,
      config,
      connection,
      namespace: app.temporal.namespace,
      activities,
    })),
  );
  const running = runWorkers(workers, stop.signal);
  await ensureArchiveSchedule(await app.client(), config.archive);
  // companies' webhook endpoints get their events here as in production
  await ensureWebhookDrainer(await app.client());

  const client = await app.client();
  const workflowId = WORKFLOW_IDS.readinessCheck(DEMO_COMPANY, new Date().toISOString());
  const handle = await client.workflow.start(checkCompanyReadiness, {
    taskQueue: TASK_QUEUES.pipeline,
    workflowId,
    args: [{ companyAlias: DEMO_COMPANY }],
    typedSearchAttributes: [{ key: SA.CompanyAlias, value: DEMO_COMPANY }],
    staticSummary: `Readiness check of ${DEMO_COMPANY}`,
  });
  const result = await handle.result();
  say('');
  say(`Company ${result.companyAlias} (${result.companyName}), time zone ${result.timezone}`);
  say(`  load maps   ${result.activeLoadMaps.join(', ') || 'none'}`);
  say(
    `  templates   sms ${result.templatesByChannel.sms.length}, voice ${result.templatesByChannel.voice.length}, email ${result.templatesByChannel.email.length}`,
  );
  say(`  credits     ${result.creditBalance}`);
  say(`  regions     ${result.regions}`);
  say(`  report      s3://${app.bucket}/${result.reportKey}`);
  say(`  ready       ${result.ready ? 'yes' : `no: ${result.problems.join('; ')}`}`);
  const link = workflowUiUrl(app.temporal, handle.workflowId, handle.firstExecutionRunId);
  if (link) say(`  workflow    ${link}`);
  say('');
  say('Ingest of the sample files in loadmaps/samples:');
  for (const line of await ingestSamples(app)) say(line);
  say('');
  // due messages go out through reminder runs (quiet hours, opt-outs, expiry), which hand them to dispatch
  const reminders = await reminderDemo(app, DEMO_COMPANY);
  for (const line of reminders.lines) say(line);
  for (const line of await describeSending(app, DEMO_COMPANY)) say(line);
  say('');
  if (values.once) {
    stop.abort();
  } else {
    say(
      `herald is running. Temporal Web UI: ${app.temporal.uiUrl ?? '(set TEMPORAL_UI_URL)'}  Press Ctrl-C to stop.`,
    );
  }
  await running;
  await reminders.ingress?.close();
  await connection.close();
} catch (err) {
  exitCode = 1;
  process.stderr.write(`herald: ${(err as Error).message}\n`);
  stop.abort();
} finally {
  await app.close();
}
say('herald: stopped.');
process.exit(exitCode);
