// Fills the benchmark's database with other companies' people, appointments and messages, as a database in use holds them.
import type { Sql } from '../lib/db';

const COMPANIES = 10;
/** rows per statement: big enough to be quick, small enough for a modest work_mem */
const CHUNK = 1_000_000;

/**
 * `messages` messages of `messages / 2` appointments (two plan steps each, one sent, one due later) of
 * `messages / 4` contacts, spread over ten companies and every region. Triggers are off while it
 * fills (session_replication_role), as a restore would load them: only the rows and their indexes count.
 */
export async function fillOtherCompanies(sql: Sql, messages: number): Promise<void> {
  if (messages <= 0) return;
  const appointments = Math.max(1, Math.floor(messages / 2));
  const contacts = Math.max(1, Math.floor(messages / 4));
  const companies = await sql<{ id: number }[]>`
    insert into companies (alias, name)
    select 'other-' || g, 'Other company ' || g from generate_series(1, ${COMPANIES}::int) g
    returning id`;
  const first = companies[0]!.id;
  await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    for (let from = 0; from < contacts; from += CHUNK) {
      const to = Math.min(contacts, from + CHUNK);
      await tx`
        insert into contacts (company_id, dedupe_key, first_name, last_name, phone_e164, email, timezone, state, region)
        select ${first} + g % ${COMPANIES}, 'o' || g, 'Pat', 'Other', '+1' || (3000000000 + g)::text, 'p' || g || '@example.com',
               'America/New_York', 'NY', (array['northeast','southeast','midwest','south_central','mountain','pacific'])[1 + g % 6]
        from generate_series(${from}::int, ${to - 1}::int) g`;
    }
    const [range] = await tx<{ low: number }[]>`
      select min(id)::int as low from contacts where company_id between ${first} and ${first + COMPANIES - 1}`;
    for (let from = 0; from < appointments; from += CHUNK) {
      const to = Math.min(appointments, from + CHUNK);
      await tx`
        insert into appointments (company_id, contact_id, dedupe_key, starts_at, starts_at_set_at)
        select c.company_id, c.id, 'oa' || g, now() + (g % 60) * interval '1 day' + (g % 600) * interval '1 minute',
               now() - interval '30 days'
        from generate_series(${from}::int, ${to - 1}::int) g
        join contacts c on c.id = ${range!.low} + g % ${contacts}`;
    }
    for (const [step, state, offset] of [
      ['sms-2d', 'delivered', '2 days'],
      ['sms-2h', 'scheduled', '2 hours'],
    ] as const) {
      const [bounds] = await tx<{ low: number; high: number }[]>`
        select min(id)::int as low, max(id)::int as high from appointments
        where company_id between ${first} and ${first + COMPANIES - 1}`;
      for (let from = bounds!.low; from <= bounds!.high; from += CHUNK) {
        await tx`
          insert into messages (company_id, contact_id, appointment_id, channel, template_name, plan_step, appointment_at,
                                data, contact_at, expires_at, region, state, provider, sent_at, delivered_at)
          select a.company_id, a.contact_id, a.id, 'sms', 'appointment_reminder', ${step}, a.starts_at,
                 '{"first_name": "Pat"}', a.starts_at - ${offset}::interval, a.starts_at, c.region, ${state},
                 case when ${state} = 'delivered' then 'outbox' end,
                 case when ${state} = 'delivered' then a.starts_at - ${offset}::interval end,
                 case when ${state} = 'delivered' then a.starts_at - ${offset}::interval end
          from appointments a join contacts c on c.id = a.contact_id
          where a.id between ${from} and ${Math.min(bounds!.high, from + CHUNK - 1)}
            and a.company_id between ${first} and ${first + COMPANIES - 1}`;
      }
    }
  });
  await sql`analyze contacts`;
  await sql`analyze appointments`;
  await sql`analyze messages`;
}
