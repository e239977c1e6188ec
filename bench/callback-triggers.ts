// `npm run bench:callback-triggers`: what migrations 0031/0032's row triggers on messages cost dispatch's two bulk
// updates: recording provider ids (a notice for waiting callbacks) and claiming (the quiet-hours guard).
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

/** A company whose n messages sit in `state`, as a dispatch batch finds them. */
async function seedCompany(sql: Sql, alias: string, state: 'sending' | 'scheduled'): Promise<number> {
  const id = await seedCompanyContacts(sql, alias, n);
  // send_by a day ahead: the guard reads it and lets every claim through
  await sql`
    insert into messages (company_id, contact_id, channel, template_name, data, contact_at, region, state, provider, send_by)
    select ${id}, c.id, 'sms', 'appointment_reminder', '{}', now(), 'northeast', ${state}, 'twilio', now() + interval '1 day'
    from contacts c where c.company_id = ${id}`;
  return id;
}

type Update = 'record-sent' | 'claim';
const TRIGGER: Record<Update, string> = {
  'record-sent': 'messages_pending_provider_events',
  claim: 'messages_quiet_hours_claim',
};

/** One bulk update of every message of the company: the wall time and the trigger function's own time. */
function timeBulkUpdate(sql: Sql, companyId: number, update: Update): Promise<UpdateSample> {
  return timeUpdate(sql, {
    update: (tx) =>
      update === 'record-sent'
        ? tx`explain (analyze, format json)
              update messages set state = 'sent', provider_message_id = 'SM' || id, sent_at = now() where company_id = ${companyId}`
        : tx`explain (analyze, format json)
              update messages set state = 'sending', sending_at = now() where company_id = ${companyId}`,
    isTrigger: (name) => name === TRIGGER[update],
  });
}

/** Every case for one update (each prepares its state; the first is the base), in interleaved rounds, and a line each. */
async function measure(
  sql: Sql,
  companyId: number,
  update: Update,
  cases: Record<string, () => Promise<void>>,
) {
  const samples = await interleavedRounds(
    runs,
    Object.fromEntries(
      Object.entries(cases).map(([label, prepare]) => [
        label,
        async () => {
          await prepare();
          return timeBulkUpdate(sql, companyId, update);
        },
      ]),
    ),
  );
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

await withBenchPostgres('callbacks', async (sql) => {
  const sending = await seedCompany(sql, 'bench-sending', 'sending');
  const scheduled = await seedCompany(sql, 'bench-scheduled', 'scheduled');
  await sql`vacuum analyze`;
  sayLoadAverage();

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
  sayLoadAverage();
});
