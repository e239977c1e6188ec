// Merges one range of a packet's staged rows (in file order) into contacts and appointments, inside the merge's transaction.
import type { PendingQuery, Row } from 'postgres';
import type { TransactionSql } from '../db';
import type { CanonicalField } from '../../schemas/canonical';
import type { BlankCellRule } from './blank-cells';
import type { PacketContext } from './packet-context';

/**
 * What every range of one merge shares. The merge's transaction id tells a row this merge wrote from
 * a row as it was before the file: what a blank cell keeps, or a moved appointment's earlier time,
 * is always the value from before the file, never one an earlier range of the same file wrote.
 */
export interface RangeMerge {
  tx: TransactionSql;
  context: PacketContext;
  blanks: BlankCellRule;
  refs: References;
  /** the merge's own transaction id (xid, as text): rows whose xmin it is were written by this merge */
  xid: string;
}

/**
 * Creates the tables that keep, for the merge's length, each contact and appointment the file touches
 * as it was before the file: the first range that touches one copies it there before changing it.
 */
export async function createBeforeFileTables(tx: TransactionSql): Promise<void> {
  await tx`
    create temp table merge_contacts_before on commit drop as
    select dedupe_key, customer_id, location_id, external_id, middle_name, phone_e164, email, zip, state,
           region, region_reason, timezone, language, consent_source, data
    from contacts with no data`;
  await tx`create unique index on merge_contacts_before (dedupe_key)`;
  await tx`
    create temp table merge_appointments_before on commit drop as
    select dedupe_key, customer_id, location_id, external_id, starts_at, starts_at_set_at, previous_starts_at,
           status, data
    from appointments with no data`;
  await tx`create unique index on merge_appointments_before (dedupe_key)`;
}

/** The merge's transaction id as `xmin` shows it (32 bits; pg_current_xact_id adds the epoch). */
export async function currentXid(tx: TransactionSql): Promise<string> {
  const [row] = await tx<{ xid: string }[]>`select pg_current_xact_id()::text as xid`;
  return (BigInt(row!.xid) % 2n ** 32n).toString();
}

/** Rows an upsert wrote, and how many of them it inserted (new to the database). */
export interface Written {
  written: number;
  inserted: number;
}

/** A piece of SQL to be put into a statement. */
type Fragment = PendingQuery<Row[]>;

export type References = Awaited<ReturnType<typeof referenceJoins>>;

/**
 * A row's customer (a provider) and location, by external id, else by name. A company without
 * customers or locations (most) is not joined at all: the joins fold the case of every row's provider
 * and location names, about a tenth of the merge's Postgres CPU.
 */
export async function referenceJoins(tx: TransactionSql, companyId: number) {
  const [has] = await tx<{ customers: boolean; locations: boolean }[]>`
    select exists (select from customers where company_id = ${companyId}) as customers,
           exists (select from company_locations where company_id = ${companyId}) as locations`;
  return {
    customer: has!.customers ? tx`coalesce(cu1.id, cu2.id)` : tx`null::bigint`,
    location: has!.locations ? tx`coalesce(lo1.id, lo2.id)` : tx`null::bigint`,
    joins: tx`${
      has!.customers
        ? tx`left join customers cu1 on cu1.company_id = ${companyId} and cu1.external_id = r.provider_id
             left join customers cu2 on cu2.company_id = ${companyId} and lower(cu2.name) = lower(r.provider)`
        : tx``
    } ${
      has!.locations
        ? tx`left join company_locations lo1 on lo1.company_id = ${companyId} and lo1.external_id = r.location_id
             left join company_locations lo2 on lo2.company_id = ${companyId} and lower(lo2.name) = lower(r.location)`
        : tx``
    }`,
  };
}

/**
 * The file's value for a field and the value from before the file (`b`), by the map's blankCells rule:
 * a field the file has no column for keeps what was stored; a blank cell keeps it too, unless the map
 * says blankCells: clear. A contact or appointment new to the database has no `b` row: the file's value.
 */
function blankAware(m: RangeMerge, fields: CanonicalField[], incoming: Fragment, column: string) {
  if (fields.some((f) => m.blanks.clears.has(f))) return incoming;
  return m.tx`coalesce(${incoming}, ${m.tx(`b.${column}`)})`;
}

/**
 * Upserts the contacts of the staged rows after `after` up to and including `through` (the last row
 * of each in the range). The values are final in the
 * select: an update assigns them all, so a contact an earlier range of this file wrote is overwritten
 * as if this row had been its only one.
 */
export async function upsertContacts(m: RangeMerge, after: number, through: number): Promise<Written> {
  const { tx, context, blanks, refs } = m;
  const companyId = context.company.id;
  const packetId = context.packet.id;
  const companyZone = context.company.timezone;
  const kept = (fields: CanonicalField[], incoming: Fragment, column: string) =>
    blankAware(m, fields, incoming, column);
  // a blank language cell keeps the language from before the file; a file without the column never sets it
  const language = blanks.read.has('language')
    ? blanks.clears.has('language')
      ? tx`coalesce(r.language, 'en')`
      : tx`coalesce(r.language, b.language, 'en')`
    : tx`coalesce(b.language, r.language, 'en')`;
  const rowData = tx`case when r.appointment_key is null then r.data else '{}'::jsonb end`;
  await tx`
    insert into merge_contacts_before
    select c.dedupe_key, c.customer_id, c.location_id, c.external_id, c.middle_name, c.phone_e164, c.email,
           c.zip, c.state, c.region, c.region_reason, c.timezone, c.language, c.consent_source, c.data
    from (select distinct contact_key from packet_rows
          where packet_id = ${packetId} and row_number > ${after} and row_number <= ${through}) k
    join contacts c on c.company_id = ${companyId} and c.dedupe_key = k.contact_key
    where not c.xmin = ${m.xid}::xid
    on conflict do nothing`;
  const columns = [
    'customer_id',
    'location_id',
    'external_id',
    'first_name',
    'last_name',
    'middle_name',
    'phone_e164',
    'email',
    'timezone',
    'zip',
    'state',
    'region',
    'region_reason',
    'language',
    'consent_source',
    'data',
    'last_packet_id',
  ];
  const [upserted] = await tx<Written[]>`
    with written as (
    insert into contacts as c (company_id, dedupe_key, first_packet_id, ${tx(columns)})
    select ${companyId}, s.* from (
      select r.contact_key, ${packetId}::bigint,
        ${kept(['provider', 'provider_id'], refs.customer, 'customer_id')} as customer_id,
        ${kept(['location', 'location_id'], refs.location, 'location_id')} as location_id,
        ${kept(['external_id'], tx`r.external_id`, 'external_id')} as external_id,
        r.first_name, r.last_name,
        ${kept(['middle_name'], tx`r.middle_name`, 'middle_name')} as middle_name,
        ${kept(['phone'], tx`r.phone_e164`, 'phone_e164')} as phone_e164,
        ${kept(['email'], tx`r.email`, 'email')} as email,
        -- a row without state or ZIP does not undo what an earlier file told us: region, reason and a
        -- zone that is only the company's fallback stay as they were
        case when r.region_code is null and b.region <> 'unassigned' and r.zone = ${companyZone}
             then b.timezone else r.zone end as timezone,
        ${kept(['zip'], tx`r.zip`, 'zip')} as zip,
        ${kept(['state'], tx`coalesce(r.state, r.zip_state)`, 'state')} as state,
        case when r.region_code is null and b.region is not null then b.region
             else coalesce(r.region_code, 'unassigned') end as region,
        case when r.region_code is null and b.region <> 'unassigned' then b.region_reason
             when r.region_code is not null then null
             when r.state is not null then 'state ' || r.state || ' belongs to no active region'
             when r.zip is not null and r.zip_state is null then 'ZIP ' || r.zip || ' matches no known ZIP prefix'
             when r.zip is not null then 'ZIP ' || r.zip || ' is in ' || r.zip_state || ', which belongs to no active region'
             else 'the row has no state or ZIP' end as region_reason,
        ${language} as language,
        ${kept(['consent_source'], tx`r.consent_source`, 'consent_source')} as consent_source,
        ${blanks.clearsExtras ? tx`jsonb_strip_nulls(coalesce(b.data, '{}') || ${rowData})` : tx`coalesce(b.data, '{}') || ${rowData}`} as data,
        ${packetId}::bigint as last_packet_id
      from (
        select r.*, rg.code as region_code, coalesce(r.timezone, rs.timezone, r.phone_timezone, ${companyZone}) as zone
        -- each contact's last row in the range: found by grouping the keys alone, then read by row
        -- number; a contact repeats once per appointment, and sorting whole rows by a key that
        -- repeats cost three times the grouping (4.9 s against 1.55 s at 1M rows)
        from (select p.* from packet_rows p
              join (select max(row_number) as row_number from packet_rows
                    where packet_id = ${packetId} and row_number > ${after} and row_number <= ${through}
                    group by contact_key) last on last.row_number = p.row_number
              where p.packet_id = ${packetId}) r
        -- zip_state was looked up when the row was mapped (lib/clean/zip-prefix.ts, the one ZIP table)
        left join region_states rs on rs.state = coalesce(r.state, r.zip_state)
        left join regions rg on rg.code = rs.region_code and rg.active
      ) r
      left join merge_contacts_before b on b.dedupe_key = r.contact_key
      ${refs.joins}
    ) s
    -- a contact the file repeats (most do, once per appointment) that an earlier range already wrote as
    -- this range would is not written again: a conflict locks and rewrites the row, a read does neither
    where not exists (
      select from contacts w
      where w.company_id = ${companyId} and w.dedupe_key = s.contact_key and w.xmin = ${m.xid}::xid
        and (${tx.unsafe(columns.map((c) => `w.${c}`).join(', '))})
            is not distinct from (${tx.unsafe(columns.map((c) => `s.${c}`).join(', '))}))
    on conflict (company_id, dedupe_key) do update set
      ${tx.unsafe(columns.map((c) => `${c} = excluded.${c}`).join(', '))}
    returning (xmax = 0) as inserted)
    select count(*)::int as written, count(*) filter (where inserted)::int as inserted from written`;
  return upserted!;
}

/**
 * Upserts the appointments of the staged rows after `after` up to and including `through` (the last
 * row of each in the range; their contacts are upserted first). Their reminders are computed
 * from what they are at each reminder run (lib/messages/due-steps.ts): a moved appointment's steps fall
 * due again for its new time, and a cancelled one's pending messages are cancelled by the run's screening.
 */
export async function upsertAppointments(m: RangeMerge, after: number, through: number): Promise<Written> {
  const { tx, context, blanks, refs } = m;
  const companyId = context.company.id;
  const packetId = context.packet.id;
  const kept = (fields: CanonicalField[], incoming: Fragment, column: string) =>
    blankAware(m, fields, incoming, column);
  await tx`
    insert into merge_appointments_before
    select a.dedupe_key, a.customer_id, a.location_id, a.external_id, a.starts_at, a.starts_at_set_at,
           a.previous_starts_at, a.status, a.data
    from (select distinct appointment_key from packet_rows
          where packet_id = ${packetId} and row_number > ${after} and row_number <= ${through}
            and appointment_key is not null) k
    join appointments a on a.company_id = ${companyId} and a.dedupe_key = k.appointment_key
    where not a.xmin = ${m.xid}::xid
    on conflict do nothing`;
  const [upserted] = await tx<Written[]>`
    with written as (
    insert into appointments as a (company_id, contact_id, customer_id, location_id, external_id, dedupe_key,
      starts_at, starts_at_set_at, previous_starts_at, timezone, status, data, first_packet_id, last_packet_id)
    select ${companyId}, c.id, ${kept(['provider', 'provider_id'], refs.customer, 'customer_id')},
      ${kept(['location', 'location_id'], refs.location, 'location_id')},
      ${kept(['appointment_id'], tx`r.appointment_external_id`, 'external_id')},
      r.appointment_key, r.starts_at,
      -- when herald learned this time, and the one it replaced: a reminder for it can say it moved
      case when b.starts_at = r.starts_at then b.starts_at_set_at else now() end,
      case when b.starts_at = r.starts_at then b.previous_starts_at else b.starts_at end,
      r.appointment_timezone,
      -- a confirmation or reschedule request came from the person; a file that still says
      -- "scheduled" for the same time does not erase it
      case when r.appointment_status = 'scheduled' and b.starts_at = r.starts_at
                and b.status in ('confirmed', 'reschedule_requested') then b.status
           else r.appointment_status end,
      -- the row's data (extra columns, provider and location; lib/ingest/row-mapper.ts): a blank cell
      -- keeps the stored value unless blankCells: clear
      ${blanks.clearsExtras ? tx`r.data` : tx`case when b.data is null then r.data else b.data || r.data end`},
      ${packetId}, ${packetId}
    from (select distinct on (appointment_key) * from packet_rows
          where packet_id = ${packetId} and row_number > ${after} and row_number <= ${through}
            and appointment_key is not null
          order by appointment_key, row_number desc) r
    join contacts c on c.company_id = ${companyId} and c.dedupe_key = r.contact_key
    left join merge_appointments_before b on b.dedupe_key = r.appointment_key
    ${refs.joins}
    on conflict (company_id, dedupe_key) do update set
      contact_id = excluded.contact_id, customer_id = excluded.customer_id, location_id = excluded.location_id,
      external_id = excluded.external_id, starts_at = excluded.starts_at,
      starts_at_set_at = excluded.starts_at_set_at, previous_starts_at = excluded.previous_starts_at,
      timezone = excluded.timezone, status = excluded.status, data = excluded.data,
      last_packet_id = excluded.last_packet_id
    where (a.contact_id, a.customer_id, a.location_id, a.external_id, a.starts_at, a.starts_at_set_at,
           a.previous_starts_at, a.timezone, a.status, a.data, a.last_packet_id)
          is distinct from
          (excluded.contact_id, excluded.customer_id, excluded.location_id, excluded.external_id, excluded.starts_at,
           excluded.starts_at_set_at, excluded.previous_starts_at, excluded.timezone, excluded.status, excluded.data,
           excluded.last_packet_id)
    returning (xmax = 0) as inserted)
    select count(*)::int as written, count(*) filter (where inserted)::int as inserted from written`;
  return upserted!;
}
