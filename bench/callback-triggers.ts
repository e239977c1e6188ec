// `npm run bench:callback-triggers`: what migrations 0031/0032's row triggers on messages cost dispatch's two bulk
// updates: recording provider ids (a notice for waiting callbacks) and claiming (the quiet-hours guard).
import { mkdtemp, rm } from 'node:fs/promises';
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

/** A company whose n messages sit in `state`, as a dispatch batch finds them. */
async function seedCompany(sql: Sql, alias: string, state: 'sending' | 'scheduled'): Promise<number> {
  const [company] = await sql<
    { id: number }[]
  >`insert into companies (alias, name) values (${alias}, ${alias}) returning id`;
  const id = company!.id;
  await sql`
    insert into contacts (company_id, dedupe_key, first_name, phone_e164, region)
    select ${id}, 'b' || g, 'Pat', '+1' || (2000000000 + ${id} * 1000000 + g)::text, 'northeast' from generate_series(1, ${n}) g`;
  // send_by a day ahead: the guard reads it and lets every claim through
  await sql`
    insert into messages (company_id, contact_id, channel, template_name, data, contact_at, region, state, provider, send_by)
    select ${id}, c.id, 'sms', 'appointment_reminder', '{}', now(), 'northeast', ${state}, 'twilio', now() + interval '1 day'
    from contacts c where c.company_id = ${id}`;
  return id;
}

interface Plan {
  Triggers?: { 'Trigger Name': string; Time: number; Calls: number }[];
}

class Rollback extends Error {}

type Update = 'record-sent' | 'claim';
const TRIGGER: Record<Update, string> = {
  'record-sent': 'messages_pending_provider_events',
  claim: 'messages_quiet_hours_claim',
};

/** One bulk update under EXPLAIN ANALYZE, rolled back: the wall time and the trigger function's own time. */
async function timeUpdate(
  sql: Sql,
  companyId: number,
  update: Update,
): Promise<{ ms: number; triggerMs: number }> {
  let result = { ms: 0, triggerMs: 0 };
  await sql
    .begin(async (tx) => {
      const started = process.hrtime.bigint();
      const [row] =
        update === 'record-sent'
          ? await tx`explain (analyze, format json)
              update messages set state = 'sent', provider_message_id = 'SM' || id, sent_at = now() where company_id = ${companyId}`
          : await tx`explain (analyze, format json)
              update messages set state = 'sending', sending_at = now() where company_id = ${companyId}`;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const plan = (row as unknown as Record<string, Plan[]>)['QUERY PLAN']![0]!;
      const trigger = plan.Triggers?.find((t) => t['Trigger Name'] === TRIGGER[update]);
      result = { ms, triggerMs: trigger?.Time ?? 0 };
      throw new Rollback();
    })
    .catch((err: unknown) => {
      if (!(err instanceof Rollback)) throw err;
    });
  await sql`vacuum messages`;
  return result;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Rounds of every case in turn, so a busy spell on the machine falls on all of them alike. */
async function measure(
  sql: Sql,
  companyId: number,
  update: Update,
  cases: Record<string, () => Promise<void>>,
) {
  const samples = new Map<string, { ms: number; triggerMs: number }[]>(
    Object.keys(cases).map((c) => [c, []]),
  );
  for (let round = 0; round < runs; round++) {
    for (const [label, prepare] of Object.entries(cases)) {
      await prepare();
      samples.get(label)!.push(await timeUpdate(sql, companyId, update));
    }
  }
  await sql`alter table messages enable trigger ${sql(TRIGGER[update])}`;
  const base = median(
    samples
      .values()
      .next()
      .value!.map((s) => s.ms),
  );
  for (const [label, s] of samples) {
    const ms = median(s.map((x) => x.ms));
    say(
      `bench:callback-triggers update=${update} messages=${n} case=${label} median_ms=${ms.toFixed(0)} ` +
        `vs_no_trigger=${(((ms - base) / base) * 100).toFixed(1)}% trigger_fn_ms=${median(s.map((x) => x.triggerMs)).toFixed(1)} ` +
        `runs_ms=${s.map((x) => x.ms.toFixed(0)).join(',')}`,
    );
  }
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-bench-callbacks-'));
const log = createLogger({ level: 'warn', pretty: false });
const pg = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), log });
const sql = createSql({ url: pg.url, actor: 'bench' });
try {
  await migrate(sql);
  const sending = await seedCompany(sql, 'bench-sending', 'sending');
  const scheduled = await seedCompany(sql, 'bench-scheduled', 'scheduled');
  await sql`vacuum analyze`;
  say(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  const toggle = (update: Update, on: boolean) => async () => {
    await sql`alter table messages ${on ? sql`enable` : sql`disable`} trigger ${sql(TRIGGER[update])}`;
  };
  await measure(sql, sending, 'record-sent', {
    'no-trigger': toggle('record-sent', false),
    'trigger,nothing-waiting': async () => {
      await toggle('record-sent', true)();
      await sql`delete from provider_events_pending`;
    },
    'trigger,1000-other-events-waiting': async () => {
      await sql`
        insert into provider_events_pending (provider, provider_event_id, provider_message_id, providers, event)
        select 'twilio', 'bench-' || g, 'SMother' || g, '{twilio}', '{}' from generate_series(1, 1000) g
        on conflict do nothing`;
    },
  });
  await sql`delete from provider_events_pending`;
  await measure(sql, scheduled, 'claim', {
    'no-trigger': toggle('claim', false),
    trigger: toggle('claim', true),
  });
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
