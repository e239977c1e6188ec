// `npm run bench:dispatch`: messages through the real worker process and Temporal to a Twilio stand-in in its own
// process, at each cap; measures the rate the stand-in saw, the busiest second, and Temporal events per 1,000.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openApp, type App } from '../lib/app';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { TASK_QUEUES, WORKFLOW_IDS } from '../lib/names';
import { startTwilioStandinProcess, type TwilioStandinProcess } from '../test/standins/twilio-process';
import { maxInAnySecond } from '../test/support/dispatch';
import { dispatchMessages } from '../workflows';
import { startSendingWorker, stopWorker } from './worker-process';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    caps: { type: 'string', default: '500,2000' },
    /** messages per send activity; auto = half a second of sending at the cap, from 100 to 500 */
    batch: { type: 'string', default: 'auto' },
    /** worker processes sharing the send queue (Temporal's cap holds across all of them) */
    workers: { type: 'string', default: '1' },
    /** print how the busiest second at the stand-in was made up */
    explain: { type: 'boolean', default: false },
  },
});
const messages = Number(values.messages);
const caps = values.caps.split(',').map(Number);
const batchFor = (cap: number) =>
  values.batch === 'auto' ? Math.min(500, Math.max(100, Math.round(cap / 2))) : Number(values.batch);
const say = (line: string) => process.stdout.write(line + '\n');

/** A company with `n` contacts and one due SMS each, made in the database in two statements. */
async function seed(app: App, alias: string, n: number): Promise<number> {
  const [company] = await app.sql<{ id: number }[]>`
    insert into companies (alias, name, phone_number) values (${alias}, 'Bench Clinic', '+16175550100') returning id`;
  const id = company!.id;
  await app.sql`insert into credit_ledger (company_id, kind, credits, note) values (${id}, 'purchase', ${n * 10}, 'bench')`;
  await app.sql`
    insert into contacts (company_id, dedupe_key, first_name, phone_e164, region)
    select ${id}, 'b' || g, 'Pat', '+1' || (2000000000 + ${id} * 1000000 + g)::text, 'northeast'
    from generate_series(1, ${n}) g`;
  await app.sql`
    insert into messages (company_id, contact_id, channel, template_name, data, contact_at, region)
    select ${id}, c.id, 'sms', 'appointment_reminder',
           jsonb_build_object('first_name', c.first_name, 'appointment_date', '2030-03-05T14:30:00Z'),
           now() - interval '1 minute', 'northeast'
    from contacts c where c.company_id = ${id}`;
  return id;
}

function explainBusiestSecond(arrivals: number[]): void {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= 1000) i++;
    if (j - i + 1 > best) [best, start] = [j - i + 1, i];
  }
  const window = sorted.slice(start, start + best);
  const gaps = window.slice(1).map((t, k) => t - window[k]!);
  say(
    `  busiest second: ${best} arrivals, ${gaps.filter((g) => g < 0.5).length} of them under 0.5 ms after the one before, longest gap ${Math.max(...gaps).toFixed(1)} ms`,
  );
  const per10s = new Map<number, number>();
  for (const t of sorted)
    per10s.set(
      Math.floor((t - sorted[0]!) / 10_000),
      (per10s.get(Math.floor((t - sorted[0]!) / 10_000)) ?? 0) + 1,
    );
  say(`  arrivals per second, by 10 s: ${[...per10s.values()].map((n) => Math.round(n / 10)).join(' ')}`);
}

/** CPU seconds (user + system) a process has used so far, from /proc; undefined where there is no /proc. */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 a second on Linux)
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function historyEvents(app: App, workflowId: string): Promise<number> {
  const client = await app.client();
  let events = 0;
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
    events += history.events?.length ?? 0;
  }
  return events;
}

async function runAtCap(app: App, twilio: TwilioStandinProcess, cap: number): Promise<string> {
  const batchSize = batchFor(cap);
  const alias = `bench-${cap}-${Date.now() % 100000}`;
  const companyId = await seed(app, alias, messages);
  const workers = await Promise.all(
    Array.from({ length: Number(values.workers) }, () => startSendingWorker(app, twilio, { cap, batchSize })),
  );
  try {
    const before = (await twilio.arrivals()).at.length;
    await twilio.lag();
    const workflowId = WORKFLOW_IDS.dispatch(alias, 'sms', new Date().toISOString());
    const client = await app.client();
    const started = Date.now();
    const cpuBefore = workers.map((w) => cpuSeconds(w.pid));
    const totals = await client.workflow.execute(dispatchMessages, {
      taskQueue: TASK_QUEUES.pipeline,
      workflowId,
      args: [{ companyId, companyAlias: alias, channel: 'sms', dueBefore: new Date().toISOString() }],
    });
    const cpuUsed = workers.reduce(
      (sum, w, i) => sum + (cpuSeconds(w.pid) ?? NaN) - (cpuBefore[i] ?? NaN),
      0,
    );
    const arrivals = (await twilio.arrivals()).at.slice(before);
    const first = Math.min(...arrivals);
    const last = Math.max(...arrivals);
    const achieved = (arrivals.length - 1) / ((last - first) / 1000);
    const events = await historyEvents(app, workflowId);
    const lag = await twilio.lag();
    if (values.explain) explainBusiestSecond(arrivals);
    say(
      `  cap ${cap}/s: ${totals.sent} sent, ${totals.held} held, ${totals.failed} failed, ${totals.waiting} waiting in ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s (${totals.batches} batches of ${batchSize}); ` +
        `stand-in event-loop delay max ${lag.maxMs.toFixed(0)} ms, p99 ${lag.p99Ms.toFixed(0)} ms; ` +
        `worker CPU ${Number.isNaN(cpuUsed) ? 'unknown' : `${((cpuUsed * 1000) / totals.sent).toFixed(3)} ms per message`}`,
    );
    return (
      `bench:dispatch messages=${arrivals.length} cap=${cap} achieved=${achieved.toFixed(1)} ratio=${(achieved / cap).toFixed(3)} ` +
      `max_window=${maxInAnySecond(arrivals)} events_per_1k=${((events * 1000) / arrivals.length).toFixed(1)}`
    );
  } finally {
    await Promise.all(workers.map(stopWorker));
  }
}

const app = await openApp({
  config: loadConfig(),
  log: createLogger({ level: 'warn' }),
  ephemeral: true,
  fastPostgres: true,
  setUp: true,
});
const twilio = await startTwilioStandinProcess({ lean: true });
if (values.explain) process.stderr.write(`database ${app.runtime.databaseUrl}\n`);
try {
  say(
    `bench:dispatch: ${messages} messages per cap, caps ${caps.join(', ')}/s, ${values.workers} worker process(es)`,
  );
  const lines: string[] = [];
  for (const cap of caps) {
    const line = await runAtCap(app, twilio, cap);
    say(line);
    lines.push(line);
  }
} finally {
  await twilio.close();
  await app.close();
}
process.exit(0);
