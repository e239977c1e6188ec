// `npm start`: the main job on the embedded defaults. Brings the runtime up, runs the pipeline, prints what happened.
// `npm start -- --servers-only` starts only the embedded servers, for workers run apart.
import { parseArgs } from 'node:util';
import { openApp, type App } from '../lib/app';
import { exitOnStartFailure, loadConfigOrExit, loadDotEnv } from '../lib/config';
import { createLogger } from '../lib/log';
import { SA, TASK_QUEUES, WORKFLOW_IDS } from '../lib/names';
import { workflowUiUrl } from '../lib/temporal';
import { startWorkerRuntime } from '../workers/worker-runtime';
import { checkCompanyReadiness } from '../workflows';
import { describeRuntime, serverVariables } from './describe-runtime';
import { describeSending } from './dispatch-demo';
import { ingestSamples } from './ingest-samples';
import { regionQueues, reminderDemo } from './reminders-demo';

const DEMO_COMPANY = 'demo-clinic';

loadDotEnv();
const { values } = parseArgs({
  options: {
    once: { type: 'boolean', default: false },
    'servers-only': { type: 'boolean', default: false },
  },
});
const config = loadConfigOrExit();
// a person watches `npm start`: warnings and progress only, the summary is printed below
const log = createLogger({ level: config.logLevel ?? 'warn' });
const say = (line = '') => process.stdout.write(line + '\n');

class Stopped extends Error {}
const stop = new AbortController();
const stopped = new Promise<never>((_, reject) =>
  stop.signal.addEventListener('abort', () => reject(new Stopped()), { once: true }),
);
stopped.catch(() => {});
/** Whatever the demo waits for (a workflow's result, an upload) gives way to Ctrl-C at once. */
const unlessStopped = <T>(work: Promise<T>): Promise<T> => Promise.race([work, stopped]);
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: tsx exits at once when its own handler is the only one left
  process.on(signal, () => {
    if (++signals > 1) {
      // a second Ctrl-C: leave now; the next start stops the servers left behind (runtime.json)
      say('herald: stopping at once.');
      process.exit(130);
    }
    say('herald: stopping (Ctrl-C again to leave at once)...');
    stop.abort();
  });
}

say(
  values['servers-only']
    ? 'herald: starting the embedded servers only (Postgres, Temporal dev server, local S3)...'
    : 'herald: starting the embedded runtime (Postgres, Temporal dev server, local S3)...',
);
const app = await openApp({
  config,
  log,
  embedded: true,
  setUp: true,
  notice: (m) => say(`  ${m}`),
}).catch(exitOnStartFailure('start'));

let exitCode = 0;
try {
  for (const line of describeRuntime(app)) say(line);
  if (values['servers-only']) await serveOnly(app);
  else await runPipeline(app);
} catch (err) {
  if (!(err instanceof Stopped)) {
    exitCode = 1;
    process.stderr.write(`herald: ${(err as Error).message}\n`);
  }
  stop.abort();
} finally {
  await app.close();
}
say('herald: stopped.');
process.exit(exitCode);

/** Workers, the CLI and the ingress run apart: with these variables, or on this checkout without any. */
async function serveOnly(app: App): Promise<void> {
  say('');
  say('Servers only: no workers run here. Start them apart (npm run worker, npm run ingress) on this');
  say('checkout, or anywhere with these variables:');
  for (const line of serverVariables(app)) say(`  ${line}`);
  say('');
  say('Press Ctrl-C to stop the servers.');
  await stopped;
}

async function runPipeline(app: App): Promise<void> {
  const running = await startWorkerRuntime({
    app,
    log,
    // the region queues too: reminder runs send each region's messages there
    taskQueues: [TASK_QUEUES.pipeline, ...(await regionQueues(app))],
    stop: stop.signal,
  });
  let ingress: { close(): Promise<void> } | undefined;
  try {
    ingress = await unlessStopped(demo(app));
    if (values.once) stop.abort();
    else {
      say(
        `herald is running. Temporal Web UI: ${app.temporal.uiUrl ?? '(set TEMPORAL_UI_URL)'}  Press Ctrl-C to stop.`,
      );
    }
    await stopped.catch(() => {});
  } finally {
    stop.abort();
    await running.finished;
    await ingress?.close();
  }
}

/** What `npm start` shows: the demo company's readiness, the samples' ingest, reminders and sending. */
async function demo(app: App): Promise<{ close(): Promise<void> } | undefined> {
  const client = await app.client();
  const workflowId = WORKFLOW_IDS.readinessCheck(DEMO_COMPANY, new Date().toISOString());
  const handle = await client.workflow.start(checkCompanyReadiness, {
    taskQueue: TASK_QUEUES.pipeline,
    workflowId,
    args: [{ companyAlias: DEMO_COMPANY }],
    typedSearchAttributes: [{ key: SA.CompanyAlias, value: DEMO_COMPANY }],
    staticSummary: `Readiness check of ${DEMO_COMPANY}`,
  });
  const result = await unlessStopped(handle.result());
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
  const samples = await unlessStopped(ingestSamples(app));
  for (const line of samples.lines) say(line);
  say('');
  // due messages go out through reminder runs (quiet hours, opt-outs, expiry), which hand them to dispatch
  const reminders = await unlessStopped(reminderDemo(app, DEMO_COMPANY, samples.packetUuids));
  for (const line of reminders.lines) say(line);
  for (const line of await unlessStopped(describeSending(app, DEMO_COMPANY))) say(line);
  say('');
  return reminders.ingress;
}
