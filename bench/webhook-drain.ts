// `npm run bench:webhook-drain`: a burst of message events through the outbox, the drainer and one
// deliverWebhook workflow each, to a local receiver; how long until every one is delivered, and the rate.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { openApp } from '../lib/app';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { WORKFLOW_IDS } from '../lib/names';
import { ensureWebhookDrainer } from '../lib/webhooks/drainer';
import { startTestWorker } from '../test/support/harness';
import { startReceiver } from '../test/support/webhook-receiver';

const { values } = parseArgs({ options: { events: { type: 'string', default: '2000' } } });
const n = Number(values.events);
const say = (line: string) => process.stdout.write(line + '\n');
const SECRET_ENV = 'HERALD_BENCH_WEBHOOK_SECRET';
process.env[SECRET_ENV] = 'whsec_bench';

const log = createLogger({ level: 'error', pretty: false });
const app = await openApp({
  config: loadConfig(),
  log,
  ephemeral: true,
  fastPostgres: true,
  setUp: true,
  notice: say,
});
const receiver = await startReceiver(process.env[SECRET_ENV]);
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
  const client = await app.client();
  await ensureWebhookDrainer(client, { taskQueue, input: { pollMs: 200, runForMs: 60_000, batchSize: 500 } });

  say(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const started = Date.now();
  // one dispatch batch's worth of sends, recorded in one statement: n events in the outbox at once
  await app.sql`update messages set state = 'sent', sent_at = now() where company_id = ${id}`;
  let delivered = 0;
  let allStarted: number | undefined;
  while (delivered < n) {
    await new Promise((r) => setTimeout(r, 250));
    const [counts] = await app.sql<{ delivered: number; started: number }[]>`
      select count(*) filter (where status = 'delivered')::int as delivered,
             count(*) filter (where workflow_id is not null)::int as started
      from webhook_deliveries where company_id = ${id}`;
    delivered = counts!.delivered;
    if (allStarted === undefined && counts!.started === n) allStarted = (Date.now() - started) / 1000;
  }
  const seconds = (Date.now() - started) / 1000;
  const verified = receiver.received.filter((r) => r.verified.ok).length;
  say(
    `bench:webhook-drain events=${n} seconds=${seconds.toFixed(1)} per_second=${(n / seconds).toFixed(0)} ` +
      `all_started_s=${allStarted?.toFixed(1)} ` +
      `received=${receiver.received.length} verified=${verified} ` +
      `load=${os.loadavg()[0]!.toFixed(2)}`,
  );
  await client.workflow.getHandle(WORKFLOW_IDS.webhookDrainer).terminate('bench over');
} finally {
  await worker.stop();
  await receiver.close();
  await app.close();
}
