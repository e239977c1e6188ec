// `npm run bench:webhook-triggers`: what the webhook outbox trigger on messages costs a bulk status update,
// with no endpoint anywhere, with another company's endpoint, and with the updated company subscribed.
import type { Sql } from '../lib/db';
import {
  benchOptions,
  interleavedRounds,
  median,
  say,
  sayLoadAverage,
  seedCompanyContacts,
  timeUpdate,
  type UpdateSample,
  withBenchPostgres,
} from './trigger-timing';

const { messages: n, runs } = benchOptions();

async function seedCompany(sql: Sql, alias: string): Promise<number> {
  const id = await seedCompanyContacts(sql, alias, n);
  // 'sending': the state a dispatch batch moves to 'sent' (an event) in one statement
  await sql`
    insert into messages (company_id, contact_id, channel, template_name, data, contact_at, region, state)
    select ${id}, c.id, 'sms', 'appointment_reminder', jsonb_build_object('first_name', c.first_name),
           now(), 'northeast', 'sending'
    from contacts c where c.company_id = ${id}`;
  return id;
}

type Change = 'sent' | 'touch';
type Sample = UpdateSample & { deliveries: number };

/** One update of every message of the company: its times, and the deliveries the trigger had written. */
async function timeChange(sql: Sql, companyId: number, change: Change): Promise<Sample> {
  const sample = await timeUpdate(sql, {
    update: (tx) =>
      change === 'sent'
        ? tx`explain (analyze, format json) update messages set state = 'sent', sent_at = now() where company_id = ${companyId}`
        : tx`explain (analyze, format json) update messages set attempts = attempts + 1 where company_id = ${companyId}`,
    isTrigger: (name) => name.endsWith('webhook_events'),
    beforeRollback: async (tx) => {
      const [after] = await tx<{ n: number }[]>`select count(*)::int as n from webhook_deliveries`;
      return after!.n;
    },
  });
  return { ...sample, deliveries: sample.seen! };
}

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

/** Every case for one kind of update, in interleaved rounds, and a line each. */
async function measure(sql: Sql, quiet: number, subscribed: number, change: Change) {
  const withEndpoint = async (measureOnce: () => Promise<Sample>) => {
    const [endpoint] = await sql<{ id: number }[]>`
      insert into webhook_endpoints (company_id, url, secret_env) values (${subscribed}, 'http://127.0.0.1:9/hook', 'BENCH_SECRET') returning id`;
    try {
      return await measureOnce();
    } finally {
      await sql`delete from webhook_endpoints where id = ${endpoint!.id}`;
    }
  };
  const samples = await interleavedRounds<Sample>(runs, {
    'no-trigger': async () => {
      await sql`alter table messages disable trigger messages_webhook_events`;
      const sample = await timeChange(sql, quiet, change);
      await sql`alter table messages enable trigger messages_webhook_events`;
      return sample;
    },
    'trigger,no-endpoint-anywhere': () => timeChange(sql, quiet, change),
    'trigger,other-company-subscribed': () => withEndpoint(() => timeChange(sql, quiet, change)),
    'trigger,this-company-subscribed': () => withEndpoint(() => timeChange(sql, subscribed, change)),
    // the design not taken, for comparison: a row trigger filtered by WHEN, asking per row whether anyone listens
    'row-trigger,no-endpoint-anywhere': async () => {
      await sql`alter table messages disable trigger messages_webhook_events`;
      await sql`alter table messages enable trigger bench_row_webhook_events`;
      const sample = await timeChange(sql, quiet, change);
      await sql`alter table messages disable trigger bench_row_webhook_events`;
      await sql`alter table messages enable trigger messages_webhook_events`;
      return sample;
    },
  });
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

await withBenchPostgres('webhooks', async (sql) => {
  await sql.unsafe(ROW_TRIGGER);
  const quiet = await seedCompany(sql, 'bench-quiet');
  const subscribed = await seedCompany(sql, 'bench-subscribed');
  await sql`vacuum analyze`;
  sayLoadAverage();
  for (const change of ['sent', 'touch'] as const) await measure(sql, quiet, subscribed, change);
  sayLoadAverage();
});
