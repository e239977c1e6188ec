// `npm run bench:webhook-drain [-- --events N]`: a burst of message events through the outbox and the drainer to a local
// receiver in its own process; the rate they are delivered at, against the same signed POSTs sent straight from one process.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { openApp } from '../lib/app';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { WORKFLOW_IDS } from '../lib/names';
import { DEFAULT_SECRET_ENV_PREFIXES } from '../lib/sources/secrets';
import { ensureWebhookDrainer } from '../lib/webhooks/drainer';
import { postDelivery, type DeliveryToSend } from '../lib/webhooks/deliver';
import { startTestWorker } from '../test/support/harness';
import { startWebhookReceiverProcess } from '../test/standins/webhook-receiver-process';
import { loadAverage } from './trigger-timing';
import { cpuBetween, cpuOfProcessTree, type CpuByPart } from './process-cpu';

const { values } = parseArgs({ options: { events: { type: 'string', default: '20000' } } });
const n = Number(values.events);
if (!Number.isInteger(n) || n < 1) throw new Error('--events must be a positive whole number');
const say = (line: string) => process.stdout.write(line + '\n');
// a name under the default SECRET_ENV_PREFIXES: workers refuse to sign with any other variable
const SECRET_ENV = 'HERALD_SECRET_BENCH_WEBHOOK';
const secret = 'whsec_bench';
process.env[SECRET_ENV] = secret;

/** CPU microseconds per event that each part of the process tree spent between two readings. */
const perEvent = (after: CpuByPart, before: CpuByPart): CpuByPart =>
  Object.fromEntries(Object.entries(cpuBetween(after, before)).map(([k, ms]) => [k, (ms * 1000) / n]));
const describe = (cost: CpuByPart) =>
  Object.entries(cost)
    .map(([k, us]) => `${k} ${us.toFixed(0)} µs`)
    .join(', ') +
  `; in all ${Object.values(cost)
    .reduce((a, b) => a + b, 0)
    .toFixed(0)} µs`;

const log = createLogger({ level: 'error', pretty: false });
const app = await openApp({
  config: loadConfig(),
  log,
  ephemeral: true,
  fastPostgres: true,
  setUp: true,
  notice: say,
});
const receiver = await startWebhookReceiverProcess(secret);
const taskQueue = 'bench-webhooks';
const worker = await startTestWorker(app, { taskQueue });
try {
  const [company] = await app.sql<{ id: number }[]>`
    insert into companies (alias, name) values ('bench-webhooks', 'Bench Webhooks') returning id`;
  const id = company!.id;
  await app.sql`
    insert into contacts (company_id, dedupe_key, first_name, phone_e164, region)
    select ${id}, 'b' || g, 'Pat', '+1' || (2000000000 + g)::text, 'northeast' from generate_series(1, ${n}) g`;
  await app.sql`
    insert into messages (company_id, contact_id, channel, template_name, contact_at, region, state)
    select ${id}, c.id, 'sms', 'appointment_reminder', now(), 'northeast', 'sending' from contacts c where c.company_id = ${id}`;
  await app.sql`
    insert into webhook_endpoints (company_id, url, events, secret_env, retry_initial_ms)
    values (${id}, ${receiver.url('/bench')}, ${['message.sent']}, ${SECRET_ENV}, 200)`;

  // the baseline: the same number of signed POSTs of a like event, 64 at once, straight from this process
  // through the drainer's own sending code: what the drainer adds to it is the database and Temporal
  const like: DeliveryToSend = {
    id: 0,
    uuid: '00000000-0000-0000-0000-000000000000',
    company_id: id,
    event: 'message.sent',
    payload: {
      messageId: randomUUID(),
      packetId: null,
      channel: 'sms',
      planStep: null,
      status: 'sent',
      previousStatus: 'sending',
      occurredAt: new Date().toISOString(),
    },
    created_at: new Date(),
    url: receiver.url('/baseline'),
    secret_env: SECRET_ENV,
    active: true,
    alias: 'bench-webhooks',
  };
  const secrets = { env: process.env, prefixes: DEFAULT_SECRET_ENV_PREFIXES };
  let sent = 0;
  const baselineCpu = await cpuOfProcessTree();
  const baselineStarted = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (sent < n) {
        sent++;
        const attempt = await postDelivery(like, 1, 10_000, secrets);
        if (attempt.outcome !== 'delivered') throw new Error(`baseline POST failed: ${attempt.error}`);
      }
    }),
  );
  const baselinePerS = n / ((performance.now() - baselineStarted) / 1000);
  const baselineCost = perEvent(await cpuOfProcessTree(), baselineCpu);
  say(
    `baseline: ${n} signed POSTs straight to the receiver, 64 at once: ${baselinePerS.toFixed(0)} a second`,
  );

  const client = await app.client();
  await ensureWebhookDrainer(client, {
    taskQueue,
    input: { pollMs: 200, runForMs: 300_000, batchSize: 500 },
  });
  // a deployment's drainer is always running: the clock starts once this one's activity has started
  const drainer = client.workflow.getHandle(WORKFLOW_IDS.webhookDrainer);
  while (!(await drainer.describe()).raw.pendingActivities?.some((a) => a.lastStartedTime))
    await new Promise((r) => setTimeout(r, 50));
  say(`load average ${loadAverage()}`);
  const before = (await receiver.counts()).received;
  const updateCpu = await cpuOfProcessTree();
  const updateStarted = performance.now();
  // one dispatch batch's worth of sends, recorded in one statement: n events in the outbox at once
  await app.sql`update messages set state = 'sent', sent_at = now() where company_id = ${id}`;
  // the drain is timed from the update's commit, when the events are in the outbox; the update is the trigger's cost
  const started = performance.now();
  const drainCpu = await cpuOfProcessTree();
  const updateCost = perEvent(drainCpu, updateCpu);
  say(
    `the update recording ${n} sends (its trigger filling the outbox): ${((started - updateStarted) / 1000).toFixed(2)} s, ${describe(updateCost)}`,
  );
  // done when the receiver has every event and every delivery is recorded as delivered: a pass records
  // its answers after its requests, so the receiver's count runs ahead of the table's
  const recorded = async () => {
    const [r] = await app.sql<
      { delivered: number; open: number; workflows: number; attempts: number; error: string | null }[]
    >`
      select count(*) filter (where d.status = 'delivered')::int as delivered,
             count(*) filter (where d.status in ('pending', 'delivering'))::int as open,
             count(*) filter (where d.workflow_id is not null)::int as workflows,
             (select count(*)::int from webhook_attempts a where a.company_id = ${id}) as attempts,
             min(d.last_error) filter (where d.status = 'failed') as error
      from webhook_deliveries d where d.company_id = ${id}`;
    return r!;
  };
  let firstMs: number | undefined;
  let receivedMs: number | undefined;
  let db: Awaited<ReturnType<typeof recorded>> | undefined;
  // the receiver is asked every 100 ms, the table (a count over every delivery, which costs Postgres as
  // much as a pass) only once the receiver has all, and every 2 s in case deliveries end undelivered
  for (let round = 1; ; round++) {
    await new Promise((r) => setTimeout(r, 100));
    const got = (await receiver.counts()).received - before;
    if (got > 0 && firstMs === undefined) firstMs = performance.now() - started;
    if (got >= n && receivedMs === undefined) receivedMs = performance.now() - started;
    if (receivedMs === undefined && round % 20 !== 0) continue;
    db = await recorded();
    if (receivedMs !== undefined && db.delivered >= n) break;
    // every delivery has ended and some were not delivered: say why rather than wait for good
    if (db.open === 0 && db.delivered < n)
      throw new Error(
        `${n - db.delivered} of ${n} deliveries were not delivered; the first reason: ${db.error}`,
      );
  }
  const seconds = (performance.now() - started) / 1000;
  const drainCost = perEvent(await cpuOfProcessTree(), drainCpu);
  const counts = await receiver.counts();
  const perS = n / seconds;
  say(
    `ours: ${n} events delivered and recorded in ${seconds.toFixed(2)} s (all received after ${(receivedMs! / 1000).toFixed(2)} s), the first after ${((firstMs ?? 0) / 1000).toFixed(2)} s; ` +
      `receiver: ${counts.received - before} received, ${counts.verified - before} signatures verified, ` +
      `${counts.distinct - 1} distinct ids; recorded: ${db.delivered} delivered, ${db.attempts} attempts, ` +
      `${db.workflows} workflows; ${(perS / baselinePerS).toFixed(2)}× the baseline; load average ${loadAverage()}`,
  );
  say(`CPU per event, baseline: ${describe(baselineCost)}`);
  say(`CPU per event, ours:     ${describe(drainCost)}`);
  say(`bench:webhook-drain events=${n} per_s=${perS.toFixed(0)}`);
  await drainer.terminate('bench over');
} finally {
  await worker.stop();
  await receiver.close();
  await app.close();
}
