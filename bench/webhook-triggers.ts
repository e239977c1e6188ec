// `npm run bench:webhook-triggers`: what the webhook outbox trigger on messages costs a bulk status update,
// with no endpoint anywhere, with another company's endpoint, and with the updated company subscribed.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createSql, type Sql } from '../lib/db';
import { createLogger } from '../lib/log';
import { migrate } from '../lib/migrate';
import { freePort } from '../lib/runtime/ports';
import { startEmbeddedPostgres } from '../lib/runtime/postgres';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
  },
});
const n = Number(values.messages);
const runs = Number(values.runs);
const say = (line: string) => process.stdout.write(line + '\n');

async function seedCompany(sql: Sql, alias: string): Promise<number> {
  const [company] = await sql<
    { id: number }[]
  >`insert into companies (alias, name) values (${alias}, ${alias}) returning id`;
  const id = company!.id;
  await sql`
    insert into contacts (company_id, dedupe_key, first_name, phone_e164, region)
    select ${id}, 'b' || g, 'Pat', '+1' || (2000000000 + ${id} * 1000000 + g)::text, 'northeast' from generate_series(1, ${n}) g`;
  // 'sending': the state a dispatch batch moves to 'sent' (an event) in one statement
  await sql`
    insert into messages (company_id, contact_id, channel, template_name, data, contact_at, region, state)
    select ${id}, c.id, 'sms', 'appointment_reminder', jsonb_build_object('first_name', c.first_name),
           now(), 'northeast', 'sending'
    from contacts c where c.company_id = ${id}`;
  return id;
}

type Change = 'sent' | 'touch';

/**
 * One update of every message of the company under EXPLAIN ANALYZE, rolled back so each run starts alike:
 * the wall time, and the time Postgres reports for the webhook trigger's own function.
 */
async function timeUpdate(sql: Sql, companyId: number, change: Change): Promise<Sample> {
  let result: Sample = { ms: 0, cpuMs: 0, triggerMs: 0, deliveries: 0 };
  await sql
    .begin(async (tx) => {
      const [{ pid }] = (await tx<{ pid: number }[]>`select pg_backend_pid() as pid`) as unknown as [
        { pid: number },
      ];
      const cpuBefore = await backendCpuMs(pid);
      const started = process.hrtime.bigint();
      const [row] =
        change === 'sent'
          ? await tx<
              { plan: Plan[] }[]
            >`explain (analyze, format json) update messages set state = 'sent', sent_at = now() where company_id = ${companyId}`
          : await tx<
              { plan: Plan[] }[]
            >`explain (analyze, format json) update messages set attempts = attempts + 1 where company_id = ${companyId}`;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const cpuMs = (await backendCpuMs(pid)) - cpuBefore;
      const plan = (row as unknown as Record<string, Plan[]>)['QUERY PLAN']![0]!;
      const trigger = plan.Triggers?.find((t) => t['Trigger Name'].endsWith('webhook_events'));
      const [after] = await tx<{ n: number }[]>`select count(*)::int as n from webhook_deliveries`;
      result = { ms, cpuMs, triggerMs: trigger?.Time ?? 0, deliveries: after!.n };
      throw new Rollback();
    })
    .catch((err: unknown) => {
      if (!(err instanceof Rollback)) throw err;
    });
  await sql`vacuum messages`;
  return result;
}

interface Sample {
  ms: number;
  /** CPU the Postgres backend spent: far steadier than wall time on a machine others are using */
  cpuMs: number;
  triggerMs: number;
  deliveries: number;
}

/** User + system CPU of a process on this machine, from /proc (the embedded Postgres runs here). */
async function backendCpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux)
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Plan {
  Triggers?: { 'Trigger Name': string; Time: number; Calls: number }[];
}

class Rollback extends Error {}

/** The alternative measured beside the chosen trigger: per row, after a WHEN that passes every status event. */
const ROW_TRIGGER = `
  create function bench_row_webhook_event() returns trigger language plpgsql as $$
  begin
    insert into webhook_deliveries (endpoint_id, company_id, event, event_key, payload)
    select e.id, new.company_id, 'message.' || new.state, format('message:%s:%s', new.uuid, new.state),
           jsonb_build_object('messageId', new.uuid, 'status', new.state)
    from webhook_endpoints e
    where e.company_id = new.company_id and e.active and herald_webhook_wants(e.events, 'message.' || new.state)
    on conflict (endpoint_id, event_key) do nothing;
    return null;
  end $$;
  create trigger bench_row_webhook_events after update of state on messages for each row
    when (old.state is distinct from new.state and new.state in ('sent', 'delivered', 'undelivered', 'failed'))
    execute function bench_row_webhook_event();
  alter table messages disable trigger bench_row_webhook_events;`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const CASES = [
  'no-trigger',
  'trigger,no-endpoint-anywhere',
  'trigger,other-company-subscribed',
  'trigger,this-company-subscribed',
  // the design not taken, for comparison: a row trigger filtered by WHEN, asking per row whether anyone listens
  'row-trigger,no-endpoint-anywhere',
] as const;
type Case = (typeof CASES)[number];

/** Rounds of every case in turn, so a busy spell on the machine falls on all of them alike. */
async function measure(sql: Sql, quiet: number, subscribed: number, change: Change) {
  const samples = new Map<Case, Sample[]>(CASES.map((c) => [c, []]));
  for (let round = 0; round < runs; round++) {
    await sql`alter table messages disable trigger messages_webhook_events`;
    samples.get('no-trigger')!.push(await timeUpdate(sql, quiet, change));
    await sql`alter table messages enable trigger messages_webhook_events`;
    samples.get('trigger,no-endpoint-anywhere')!.push(await timeUpdate(sql, quiet, change));
    const [endpoint] = await sql<{ id: number }[]>`
      insert into webhook_endpoints (company_id, url, secret_env) values (${subscribed}, 'http://127.0.0.1:9/hook', 'BENCH_SECRET') returning id`;
    samples.get('trigger,other-company-subscribed')!.push(await timeUpdate(sql, quiet, change));
    samples.get('trigger,this-company-subscribed')!.push(await timeUpdate(sql, subscribed, change));
    await sql`delete from webhook_endpoints where id = ${endpoint!.id}`;
    await sql`alter table messages disable trigger messages_webhook_events`;
    await sql`alter table messages enable trigger bench_row_webhook_events`;
    samples.get('row-trigger,no-endpoint-anywhere')!.push(await timeUpdate(sql, quiet, change));
    await sql`alter table messages disable trigger bench_row_webhook_events`;
    await sql`alter table messages enable trigger messages_webhook_events`;
  }
  const base = median(samples.get('no-trigger')!.map((s) => s.cpuMs));
  for (const [label, s] of samples) {
    const cpu = median(s.map((x) => x.cpuMs));
    say(
      `bench:webhook-triggers update=${change} messages=${n} case=${label} backend_cpu_ms=${cpu.toFixed(0)} ` +
        `vs_no_trigger=${(((cpu - base) / base) * 100).toFixed(1)}% trigger_fn_ms=${median(s.map((x) => x.triggerMs)).toFixed(1)} ` +
        `wall_ms=${median(s.map((x) => x.ms)).toFixed(0)} cpu_runs_ms=${s.map((x) => x.cpuMs).join(',')} deliveries=${s[0]!.deliveries}`,
    );
  }
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-bench-webhooks-'));
const log = createLogger({ level: 'warn', pretty: false });
const pg = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), log });
const sql = createSql({ url: pg.url, actor: 'bench' });
try {
  await migrate(sql);
  await sql.unsafe(ROW_TRIGGER);
  const quiet = await seedCompany(sql, 'bench-quiet');
  const subscribed = await seedCompany(sql, 'bench-subscribed');
  await sql`vacuum analyze`;
  say(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  for (const change of ['sent', 'touch'] as const) await measure(sql, quiet, subscribed, change);
  say(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await sql.end();
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}
