// `npm run bench:reminders [-- --appointments N --cap R --workers one|split --scale SERVICE=N --compose FILE]`: reminder
// runs of ten companies at a busy moment over N appointments in seven regions, through real worker processes and Temporal
// to the Twilio stand-in: how soon the first text goes, how long choosing the due steps takes, and the rate sent against
// the account's cap. `split` runs the worker services of docker-compose.yml as they are deployed.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import proto from '@temporalio/proto';
import { DateTime } from 'luxon';
import { openApp, type App } from '../lib/app';
import { loadConfig, PROJECT_ROOT } from '../lib/config';
import { createLogger } from '../lib/log';
import { createDueMessages } from '../lib/messages/create-due';
import { dueSteps, loadCompanyPlan, stepHasMessage } from '../lib/messages/due-steps';
import { regionTaskQueue, SA, TASK_QUEUES, WORKFLOW_IDS } from '../lib/names';
import { startTwilioStandinProcess, type TwilioStandinProcess } from '../test/standins/twilio-process';
import { maxInAnySecond } from '../test/support/dispatch';
import { buildWorkflowBundle } from '../workers/workflow-bundle';
import { reminderRun } from '../workflows';
import { loadAverage } from './trigger-timing';
import { composeWorkers } from './compose-workers';
import { startSendingWorker, stopWorker } from './worker-process';

const { values } = parseArgs({
  options: {
    appointments: { type: 'string', default: '1000000' },
    cap: { type: 'string', default: '500' },
    /** print the run that sent the first text as a timeline: its workflows' activities and children */
    explain: { type: 'boolean', default: false },
    /** print the account cap's window shares every 250 ms while the runs send: held, by how many, how many hungry */
    shares: { type: 'boolean', default: false },
    /** one: a worker process hosting every queue; split: the processes docker-compose.yml deploys */
    workers: { type: 'string', default: 'one' },
    /** with split: the compose file whose worker services run (another layout, to compare) */
    compose: { type: 'string', default: path.join(PROJECT_ROOT, 'docker-compose.yml') },
    /** with split: SERVICE=N, as `docker compose up --scale` (repeatable) */
    scale: { type: 'string', multiple: true, default: [] },
  },
});
const total = Number(values.appointments);
const cap = Number(values.cap);
if (!Number.isInteger(total) || total < 1000)
  throw new Error('--appointments must be a whole number, 1000 or more');
const shape = values.workers;
if (shape !== 'one' && shape !== 'split') throw new Error(`--workers must be one or split, not ${shape}`);
const scale = Object.fromEntries(
  values.scale.map((s) => {
    const [service, n] = s.split('=');
    if (!service || !/^[1-9]\d*$/.test(n ?? '')) throw new Error(`--scale must be SERVICE=N, not ${s}`);
    return [service, Number(n)];
  }),
);
const say = (line: string) => process.stdout.write(line + '\n');
const COMPANIES = 10;
/** one state per region, and people with no state or ZIP (the unassigned region, in the company's zone) */
const PLACES = [
  { state: 'NY', zone: 'America/New_York', region: 'northeast' },
  { state: 'FL', zone: 'America/New_York', region: 'southeast' },
  { state: 'IL', zone: 'America/Chicago', region: 'midwest' },
  { state: 'TX', zone: 'America/Chicago', region: 'south_central' },
  { state: 'CO', zone: 'America/Denver', region: 'mountain' },
  { state: 'CA', zone: 'America/Los_Angeles', region: 'pacific' },
  { state: null, zone: null, region: 'unassigned' },
];

/**
 * The busy moment: 10:00 in New York on a day at least two days off, when the two-day texts of a day's
 * appointments in the eastern zone fall due at once (the default plan's `sms-2d`).
 */
function busyMoment(): Date {
  return DateTime.now()
    .setZone('America/New_York')
    .plus({ days: 2 })
    .set({ hour: 10, minute: 0, second: 0, millisecond: 0 })
    .toJSDate();
}

/** Ten companies with the default plan, their people in seven regions and `total` appointments over sixty days from `at`. */
async function seed(app: App, at: Date): Promise<{ id: number; alias: string }[]> {
  const companies = await app.sql<{ id: number; alias: string }[]>`
    insert into companies (alias, name, phone_number, timezone)
    select 'bench-' || g || '-' || ${randomUUID().slice(0, 6)}, 'Bench Clinic ' || g, '+16175550100', 'America/New_York'
    from generate_series(1, ${COMPANIES}) g
    returning id, alias`;
  const ids = companies.map((c) => c.id);
  await app.sql`
    insert into credit_ledger (company_id, kind, credits, note)
    select id, 'purchase', ${total}, 'bench' from unnest(${ids}::bigint[]) id`;
  const contacts = Math.floor(total / 2);
  await app.sql.begin(async (tx) => {
    // a bulk load, as a restore would do it: the reference checks' work is not what this measures
    await tx`set local session_replication_role = replica`;
    await tx`
      insert into contacts (company_id, dedupe_key, first_name, last_name, phone_e164, timezone, state, region)
      select (${ids}::bigint[])[1 + g % ${COMPANIES}], 'c' || g, 'Pat', 'Lee', '+1' || (2000000000 + g)::text,
             p.zone, p.state, p.region
      from generate_series(0, ${contacts - 1}) g
      join unnest(${PLACES.map((p) => p.zone)}::text[], ${PLACES.map((p) => p.state)}::text[],
                  ${PLACES.map((p) => p.region)}::text[]) with ordinality as p(zone, state, region, n)
        on p.n = 1 + (g / ${COMPANIES}) % ${PLACES.length}`;
    const [low] = await tx<{ id: number }[]>`
      select min(id)::int as id from contacts where company_id = any(${ids}::bigint[])`;
    // evenly over sixty days; herald learned them a month ago
    await tx`
      insert into appointments (company_id, contact_id, dedupe_key, starts_at, starts_at_set_at)
      select c.company_id, c.id, 'a' || g,
             ${at.toISOString()}::timestamptz + (g::float8 / ${total}) * interval '60 days',
             ${at.toISOString()}::timestamptz - interval '30 days'
      from generate_series(0, ${total - 1}) g
      join contacts c on c.id = ${low!.id} + g % ${contacts}`;
  });
  await app.sql`analyze contacts`;
  await app.sql`analyze appointments`;
  return companies;
}

/**
 * The worker processes, all on one prebuilt workflow bundle as in production. `one`: a process hosting the pipeline
 * queue, the region queues and the send queues. `split`: the worker services of docker-compose.yml, read from the
 * file (node flags, WORKER_TASK_QUEUES, WORKER_SEND_ACCOUNTS), each replica a process.
 */
async function startWorkers(
  app: App,
  twilio: TwilioStandinProcess,
  bundlePath: string,
): Promise<ChildProcess[]> {
  const common = {
    cap,
    batchSize: Math.min(500, Math.max(100, Math.round(cap / 2))),
    env: { WORKFLOW_BUNDLE_PATH: bundlePath },
  };
  const regions = PLACES.map((p) => regionTaskQueue(p.region));
  let starts: Promise<ChildProcess>[];
  if (shape === 'one') {
    starts = [startSendingWorker(app, twilio, { ...common, queues: [TASK_QUEUES.pipeline, ...regions] })];
  } else {
    const services = await composeWorkers(scale, values.compose);
    const hosted = services.flatMap((s) => (s.env.WORKER_TASK_QUEUES ?? '').split(','));
    const missing = [TASK_QUEUES.pipeline, ...regions].filter((q) => !hosted.includes(q));
    if (missing.length) throw new Error(`${values.compose} has no worker for ${missing.join(', ')}`);
    say(
      `workers from ${path.basename(values.compose)}: ${services
        .map(
          (s) =>
            `${s.name} (${s.env.WORKER_TASK_QUEUES ?? 'default queues'}; sends ${s.env.WORKER_SEND_ACCOUNTS ?? 'all'})`,
        )
        .join(', ')}`,
    );
    starts = services.map((s) =>
      startSendingWorker(app, twilio, {
        ...common,
        nodeArgs: s.nodeArgs,
        // a variable the file leaves unset is unset here too, whatever this shell has
        env: { ...common.env, WORKER_TASK_QUEUES: '', WORKER_SEND_ACCOUNTS: '', ...s.env },
      }),
    );
  }
  const settled = await Promise.allSettled(starts);
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map(stopWorker));
    throw failed.reason;
  }
  return started;
}

interface ShareSample {
  at: number;
  rows: { holder: string; have: number; wants: boolean }[];
}

/** Samples the account's window shares every 100 ms until stopped. */
function watchShares(app: App, since: number): { stop(): Promise<ShareSample[]> } {
  const samples: ShareSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const rows = await app.sql<{ holder: string; have: number; wants: boolean }[]>`
        select holder, have, wants from send_window_shares where key like 'account:%' order by holder`;
      samples.push({ at: Date.now() - since, rows: [...rows] });
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/** One line per 250 ms from the first send: arrivals at the stand-in, capacity held, each holder's share (* hungry). */
function printShares(samples: ShareSample[], arrivals: number[], since: number): void {
  const first = Math.min(...arrivals) - since;
  const last = Math.max(...arrivals) - since;
  const holders = [...new Set(samples.flatMap((s) => s.rows.map((r) => r.holder)))].sort();
  say(`shares: holders ${holders.map((h, i) => `${i}=${h.slice(0, 8)}`).join(' ')}`);
  for (let t = Math.floor(first / 250) * 250; t <= last; t += 250) {
    const sent = arrivals.filter((a) => a - since >= t && a - since < t + 250).length;
    const sample = samples.find((s) => s.at >= t) ?? samples.at(-1);
    const rows = sample?.rows ?? [];
    const held = rows.reduce((n, r) => n + r.have, 0);
    const each = holders
      .map((h) => rows.find((r) => r.holder === h))
      .map((r) => (r ? `${r.have}${r.wants ? '*' : ''}` : '-').padStart(5))
      .join('');
    say(
      `  +${String(t).padStart(6)} ms sent ${String(sent * 4).padStart(4)}/s held ${String(held).padStart(4)} |${each}`,
    );
  }
}

/** A local activity's marker: its type and when it was scheduled (epoch ms); the marker's event is its end. */
function localActivity(data: Uint8Array | null | undefined): { type: string; scheduled: number } | undefined {
  if (!data) return undefined;
  const marker = JSON.parse(Buffer.from(data).toString('utf8')) as {
    activity_type?: string;
    original_schedule_time?: { seconds: number; nanos: number };
  };
  const t = marker.original_schedule_time;
  if (!marker.activity_type || !t) return undefined;
  return { type: marker.activity_type, scheduled: t.seconds * 1000 + t.nanos / 1e6 };
}

/** What a workflow and the children it started did when, in ms after `since`. */
async function explainRun(app: App, workflowId: string, since: number, firstSend: number): Promise<void> {
  const client = await app.client();
  const lines: { at: number; text: string }[] = [{ at: firstSend, text: 'first text at the stand-in' }];
  const visit = async (id: string, depth: number) => {
    const history = await client.workflow.getHandle(id).fetchHistory();
    for (const e of history.events ?? []) {
      const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
      const type = String(proto.temporal.api.enums.v1.EventType[e.eventType ?? 0])
        .replace('EVENT_TYPE_', '')
        .toLowerCase();
      const what =
        e.activityTaskScheduledEventAttributes?.activityType?.name ??
        e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ??
        '';
      const name = `${'  '.repeat(depth)}${id.split('/').slice(-2).join('/')}`;
      if (
        /activity_task_(scheduled|started|completed)|child_workflow_execution_(started|completed)|workflow_execution_(started|completed)/.test(
          type,
        )
      )
        lines.push({ at, text: `${name}: ${type} ${what}` });
      const local = localActivity(e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data);
      if (local) {
        lines.push({ at: local.scheduled, text: `${name}: local activity scheduled ${local.type}` });
        lines.push({ at, text: `${name}: local activity completed ${local.type}` });
      }
      const child = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      if (child && depth < 3) await visit(child, depth + 1);
    }
  };
  await visit(workflowId, 0);
  for (const l of lines.sort((a, b) => a.at - b.at))
    say(`  +${String(Math.round(l.at - since)).padStart(6)} ms ${l.text}`);
}

const app = await openApp({
  config: loadConfig(),
  log: createLogger({ level: 'warn' }),
  ephemeral: true,
  fastPostgres: true,
  setUp: true,
});
const twilio = await startTwilioStandinProcess({ lean: true });
const bundleDir = await mkdtemp(path.join(tmpdir(), 'herald-bench-bundle-'));
try {
  const at = busyMoment();
  let started = performance.now();
  const companies = await seed(app, at);
  const plans = await Promise.all(companies.map(async (c) => (await loadCompanyPlan(app.sql, c.id))!));
  // earlier runs kept up: every step due before the last run 15 minutes ago has its message, sent
  const before = new Date(at.getTime() - 15 * 60_000).toISOString();
  let backlog = 0;
  for (const plan of plans)
    backlog += (await createDueMessages(app.sql, plan, before, 'earlier-runs')).created;
  await app.sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await tx`update messages set state = 'delivered', sent_at = contact_at, delivered_at = contact_at where state = 'scheduled'`;
  });
  await app.sql`analyze messages`;
  say(
    `seeded ${companies.length} companies, ${total} appointments over 60 days in ${PLACES.length} regions, ` +
      `${backlog} messages of earlier runs, in ${((performance.now() - started) / 1000).toFixed(1)} s; the run at ${at.toISOString()}`,
  );

  // choosing the due steps alone, for every company, as the run's first statement chooses them
  const now = at.toISOString();
  started = performance.now();
  let due = 0;
  for (const plan of plans) {
    const [row] = await app.sql<{ n: number }[]>`
      select count(*)::int as n from (${dueSteps(app.sql, { plan, now, dueBy: now })}) d where not ${stepHasMessage(app.sql)}`;
    due += row!.n;
  }
  const selectMs = performance.now() - started;
  say(`selection: ${due} steps due for the ${companies.length} companies in ${selectMs.toFixed(0)} ms`);

  const bundlePath = path.join(bundleDir, 'workflow-bundle.js');
  await writeFile(bundlePath, (await buildWorkflowBundle()).code);
  const workers = await startWorkers(app, twilio, bundlePath);
  say(`workers: ${shape}, ${workers.length} process${workers.length > 1 ? 'es' : ''}`);
  try {
    const arrivedBefore = (await twilio.arrivals()).at.length;
    const client = await app.client();
    say(`load average ${loadAverage()}`);
    const runsStarted = Date.now();
    const watching = values.shares ? watchShares(app, runsStarted) : undefined;
    const summaries = await Promise.all(
      companies.map((c) =>
        client.workflow.execute(reminderRun, {
          taskQueue: TASK_QUEUES.pipeline,
          workflowId: WORKFLOW_IDS.reminderRun(c.alias, `bench-${now}`),
          args: [{ companyAlias: c.alias, now }],
          typedSearchAttributes: [{ key: SA.CompanyAlias, value: c.alias }],
        }),
      ),
    );
    const arrivals = (await twilio.arrivals()).at.slice(arrivedBefore);
    if (watching) printShares(await watching.stop(), arrivals, runsStarted);
    const first = Math.min(...arrivals);
    const last = Math.max(...arrivals);
    const created = summaries.reduce((n, s) => n + s.created, 0);
    const sentPerS = (arrivals.length - 1) / ((last - first) / 1000);
    // the rate without the ramp of the runs' first batches and the tail: 4 s after the first text to 1 s before the last
    const steadyFrom = first + 4000;
    const steadyTo = last - 1000;
    const steadyPerS =
      steadyTo > steadyFrom
        ? arrivals.filter((a) => a >= steadyFrom && a < steadyTo).length / ((steadyTo - steadyFrom) / 1000)
        : NaN;
    const deferredIn: Record<string, number> = {};
    const pages = summaries.flatMap((s) => [
      ...(s.firstPage ? [{ ...s.firstPage, region: 'first pages' }] : []),
      ...s.regions,
    ]);
    for (const r of pages)
      if (r.screened.deferred) deferredIn[r.region] = (deferredIn[r.region] ?? 0) + r.screened.deferred;
    const deferred = Object.values(deferredIn).reduce((n, d) => n + d, 0);
    say(
      `runs: ${created} messages made, ${arrivals.length} sent, ${deferred} deferred ` +
        `(before 08:00 where they live: ${Object.entries(deferredIn)
          .map(([region, n]) => `${region} ${n}`)
          .join(', ')}), ` +
        `the last run done ${((Date.now() - runsStarted) / 1000).toFixed(1)} s after the start; ` +
        `busiest second ${maxInAnySecond(arrivals)} at the stand-in (cap ${cap}); ${(sentPerS / cap).toFixed(3)} of the cap, ` +
        `${(steadyPerS / cap).toFixed(3)} from 4 s after the first text to 1 s before the last; ` +
        `load average ${loadAverage()}`,
    );
    if (values.explain) {
      // the run whose batch sent the first text: a batch's token starts with the id of the workflow that sent it
      const [firstSent] = await app.sql<{ token: string }[]>`
        select dispatch_token as token from messages
        where company_id in ${app.sql(companies.map((c) => c.id))} and sent_at >= ${new Date(runsStarted)}
        order by sent_at, id limit 1`;
      const runId = firstSent!.token.slice(0, firstSent!.token.indexOf('#')).replace(/\/region\/.*$/, '');
      await explainRun(app, runId, runsStarted, first);
    }
    say(
      `bench:reminders workers=${shape} appointments=${total} due=${created} first_send_ms=${Math.round(first - runsStarted)} ` +
        `select_ms=${selectMs.toFixed(0)} sent_per_s=${sentPerS.toFixed(1)} cap=${cap}`,
    );
  } finally {
    await Promise.all(workers.map(stopWorker));
  }
} finally {
  await rm(bundleDir, { recursive: true, force: true });
  await twilio.close();
  await app.close();
}
process.exit(0);
