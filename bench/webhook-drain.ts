// `npm run bench:webhook-drain [-- --events N]`: a burst of message events through the outbox and the drainer to a local
// receiver in its own process; the rate they are delivered at, against the same signed POSTs sent straight from one process.
import { parseArgs } from 'node:util';
import { openApp } from '../lib/app';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { WORKFLOW_IDS } from '../lib/names';
import { ensureWebhookDrainer } from '../lib/webhooks/drainer';
import { signWebhook } from '../lib/webhooks/signature';
import { startTestWorker } from '../test/support/harness';
import { startWebhookReceiverProcess } from '../test/standins/webhook-receiver-process';
import { loadAverage } from './trigger-timing';

const { values } = parseArgs({ options: { events: { type: 'string', default: '20000' } } });
const n = Number(values.events);
if (!Number.isInteger(n) || n < 1) throw new Error('--events must be a positive whole number');
const say = (line: string) => process.stdout.write(line + '\n');
const SECRET_ENV = 'HERALD_BENCH_WEBHOOK_SECRET';
const secret = 'whsec_bench';
process.env[SECRET_ENV] = secret;

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

  // the baseline: the same number of signed POSTs of a like body, 64 at once, straight from this process
  const body = JSON.stringify({
    id: '00000000-0000-0000-0000-000000000000',
    event: 'message.sent',
    data: {},
  });
  let sent = 0;
  const baselineStarted = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (sent < n) {
        sent++;
        const response = await fetch(receiver.url('/baseline'), {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-herald-signature': signWebhook(body, secret) },
        });
        await response.text();
      }
    }),
  );
  const baselinePerS = n / ((performance.now() - baselineStarted) / 1000);
  say(
    `baseline: ${n} signed POSTs straight to the receiver, 64 at once: ${baselinePerS.toFixed(0)} a second`,
  );

  const client = await app.client();
  await ensureWebhookDrainer(client, {
    taskQueue,
    input: { pollMs: 200, runForMs: 300_000, batchSize: 500 },
  });
  say(`load average ${loadAverage()}`);
  const before = (await receiver.counts()).received;
  const started = performance.now();
  // one dispatch batch's worth of sends, recorded in one statement: n events in the outbox at once
  await app.sql`update messages set state = 'sent', sent_at = now() where company_id = ${id}`;
  let firstMs: number | undefined;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const got = (await receiver.counts()).received - before;
    if (got > 0 && firstMs === undefined) firstMs = performance.now() - started;
    if (got >= n) break;
  }
  const seconds = (performance.now() - started) / 1000;
  const [db] = await app.sql<{ delivered: number; workflows: number; attempts: number }[]>`
    select count(*) filter (where d.status = 'delivered')::int as delivered,
           count(*) filter (where d.workflow_id is not null)::int as workflows,
           (select count(*)::int from webhook_attempts a where a.company_id = ${id}) as attempts
    from webhook_deliveries d where d.company_id = ${id}`;
  const counts = await receiver.counts();
  const perS = n / seconds;
  say(
    `ours: ${n} events delivered in ${seconds.toFixed(2)} s, the first after ${((firstMs ?? 0) / 1000).toFixed(2)} s; ` +
      `receiver: ${counts.received - before} received, ${counts.verified - before} signatures verified, ` +
      `${counts.distinct - 1} distinct ids; recorded: ${db!.delivered} delivered, ${db!.attempts} attempts, ` +
      `${db!.workflows} workflows; ${(perS / baselinePerS).toFixed(2)}× the baseline; load average ${loadAverage()}`,
  );
  say(`bench:webhook-drain events=${n} per_s=${perS.toFixed(0)}`);
  await client.workflow.getHandle(WORKFLOW_IDS.webhookDrainer).terminate('bench over');
} finally {
  await worker.stop();
  await receiver.close();
  await app.close();
}
