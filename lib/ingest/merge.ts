// Merges a packet's staging rows into contacts and appointments in one transaction: all of them or none.
import type { Sql, TransactionSql } from '../db';
import { watchCancellation } from './cancellable-transaction';
import type { CanonicalField } from '../../schemas/canonical';
import { blankCellRule, type BlankCellRule } from './blank-cells';
import type { PacketContext } from './packet-context';

/** Second key of the per-company advisory lock the merge holds (lib/load-maps uses 1). */
export const COMPANY_INGEST_LOCK = 2;

export interface RegionCount {
  region: string;
  reason: string | null;
  contacts: number;
}

export interface MergeResult {
  rowsLoaded: number;
  rowsDuplicate: number;
  contactsCreated: number;
  contactsUpdated: number;
  appointmentsCreated: number;
  appointmentsUpdated: number;
  /** appointments an earlier run of this packet loaded that this run no longer does (a replay), cancelled */
  appointmentsDropped: number;
  /** appointments of this feed on the days the file covers that it no longer lists (maps without appointment ids) */
  appointmentsSuperseded: number;
  regions: RegionCount[];
}

/**
 * The staging rows the merge found are not the ones staging committed: packet_rows is unlogged, so a
 * Postgres crash (or a failover to a standby) empties it. Nothing was merged; the packet must be staged again.
 */
export interface StagingLost {
  stagingLost: {
    /** rows the packet's staging committed; null when no staging has finished since its run began */
    staged: number | null;
    found: number;
  };
}

/**
 * Within the file the last row of a contact (or appointment) wins; against the database, a contact or
 * appointment with the same dedupe key is updated. A replay merges its rows again: what they say now
 * replaces what the packet's earlier run wrote, and appointments that run loaded which this one no
 * longer does are cancelled (contacts stay). Messages are not touched: the reminder run makes them
 * when their steps fall due, and its screening cancels the pending ones of cancelled appointments.
 */
export async function mergePacketRows(
  sql: Sql,
  context: PacketContext,
  opts: { signal?: AbortSignal } = {},
): Promise<MergeResult | StagingLost> {
  try {
    return (await sql.begin(async (tx) => {
      // a cancelled ingest merges nothing: the cancel stops the merge's statement and rolls it back
      const watch = await watchCancellation(sql, tx, opts.signal);
      try {
        const merged = await mergeInTransaction(tx, context);
        watch.check();
        return merged;
      } finally {
        watch.stop();
      }
    })) as MergeResult | StagingLost;
  } catch (error) {
    // a statement stopped by the cancellation fails as cancelled, not as a database error
    opts.signal?.throwIfAborted();
    throw error;
  }
}

async function mergeInTransaction(
  tx: TransactionSql,
  context: PacketContext,
): Promise<MergeResult | StagingLost> {
  const packetId = context.packet.id;
  const [packet] = await tx<
    {
      merged_at: Date | null;
      rows_staged: number | null;
      metadata: { merge?: MergeResult; header?: string[] };
    }[]
  >`select merged_at, rows_staged, metadata from data_packets where id = ${packetId} for update`;
  // a retried merge whose first attempt committed (a new staging clears the mark)
  if (packet?.merged_at && packet.metadata.merge) return packet.metadata.merge;
  const blanks = blankCellRule(context.loadMap.compiled, packet?.metadata.header);
  // two packets of one company merge one after the other: overlapping rows would otherwise deadlock
  await tx`select pg_advisory_xact_lock(${context.company.id}, ${COMPANY_INGEST_LOCK})`;
  // the merge sorts a packet's rows by key; in memory that is far faster than on disk
  await tx`set local work_mem = '256MB'`;
  // two scans, not one: a filtered count(distinct) sorts every staged row, not only the contact-only ones
  const [counts] = await tx<{ staged: number; contactOnly: number }[]>`
    select (select count(*)::int from packet_rows where packet_id = ${packetId}) as staged,
           (select count(distinct contact_key)::int from packet_rows
            where packet_id = ${packetId} and appointment_key is null) as "contactOnly"`;
  if (counts!.staged !== packet?.rows_staged)
    return { stagingLost: { staged: packet?.rows_staged ?? null, found: counts!.staged } };
  await analyzeIfGrown(tx, 'packet_rows', counts!.staged);
  const refs = await referenceJoins(tx, context.company.id);
  const dropped = await dropUnlistedAppointments(tx, context);
  const contacts = await upsertContacts(tx, context, refs, blanks);
  await analyzeIfGrown(tx, 'contacts', contacts.created + contacts.updated);
  const appointments = await upsertAppointments(tx, context, refs, blanks);
  await analyzeIfGrown(tx, 'appointments', appointments.created + appointments.updated);
  const superseded = context.loadMap.compiled.appointmentKeyFields
    ? 0
    : await supersedeMissingAppointments(tx, context);
  const kept = appointments.kept + counts!.contactOnly;
  const result: MergeResult = {
    rowsLoaded: kept,
    rowsDuplicate: counts!.staged - kept,
    contactsCreated: contacts.created,
    contactsUpdated: contacts.updated,
    appointmentsCreated: appointments.created,
    appointmentsUpdated: appointments.updated,
    appointmentsDropped: dropped,
    appointmentsSuperseded: superseded,
    regions: contacts.regions,
  };
  await tx`
    update data_packets
    set merged_at = now(), rows_loaded = ${result.rowsLoaded}, rows_duplicate = ${result.rowsDuplicate},
        metadata = metadata || ${tx.json({ merge: result } as never)}
    where id = ${packetId}`;
  await tx`delete from packet_rows where packet_id = ${packetId}`;
  return result;
}

/**
 * Cancels the appointments this packet last wrote that its staged rows no longer list: after a replay
 * through another map, a row it rejects or reads as another appointment must not leave the first
 * reading's appointment behind to be reminded of (the reminder run's screening cancels its pending
 * messages). A first merge finds none (no appointment names this packet yet).
 */
async function dropUnlistedAppointments(tx: TransactionSql, context: PacketContext): Promise<number> {
  const companyId = context.company.id;
  const packetId = context.packet.id;
  const dropped = await tx`
    update appointments a set status = 'cancelled'
    where a.company_id = ${companyId} and a.last_packet_id = ${packetId} and a.status <> 'cancelled'
      and not exists (select 1 from packet_rows r where r.packet_id = ${packetId} and r.appointment_key = a.dedupe_key)`;
  return dropped.count;
}

/**
 * Refreshes the planner's statistics of a table this packet just grew by a tenth or more. Autovacuum
 * cannot see a transaction's own rows, so the next statement would be planned for the table as it
 * was: an appointment upsert of 180,000 rows joined to a contacts table the planner believed held
 * 236 rows as a nested loop over a scan, and ran for minutes. ANALYZE in the transaction counts its
 * own rows, and its statistics commit (or roll back) with the packet.
 */
async function analyzeIfGrown(
  tx: TransactionSql,
  table: 'packet_rows' | 'contacts' | 'appointments',
  changed: number,
): Promise<void> {
  const [stats] = await tx<{ rows: number }[]>`
    select greatest(reltuples, 0)::float8 as rows from pg_class where oid = ${table}::regclass`;
  if (changed >= Math.max(1_000, (stats?.rows ?? 0) / 10)) await tx`analyze ${tx(table)}`;
}

type References = Awaited<ReturnType<typeof referenceJoins>>;

/**
 * A row's customer (a provider) and location, by external id, else by name. A company without
 * customers or locations (most) is not joined at all: the joins fold the case of every row's provider
 * and location names, about a tenth of the merge's Postgres CPU.
 */
async function referenceJoins(tx: TransactionSql, companyId: number) {
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
 * A stored value and the file's value for it, by the map's blankCells rule: a field the file has no
 * column for keeps what is stored; a blank cell keeps it too, unless the map says blankCells: clear.
 */
function blankAware(tx: TransactionSql, blanks: BlankCellRule, fields: CanonicalField[], column: string) {
  const stored = tx(`c.${column}`);
  const incoming = tx(`excluded.${column}`);
  if (fields.some((f) => blanks.clears.has(f))) return tx`${incoming}`;
  return tx`coalesce(${incoming}, ${stored})`;
}

async function upsertContacts(
  tx: TransactionSql,
  context: PacketContext,
  refs: References,
  blanks: BlankCellRule,
) {
  const companyId = context.company.id;
  const packetId = context.packet.id;
  const kept = (fields: CanonicalField[], column: string) => blankAware(tx, blanks, fields, column);
  const readsLanguage = blanks.read.has('language');
  // a blank language cell keeps the stored language; looked up only for those rows (the column is not null)
  const language =
    readsLanguage && !blanks.clears.has('language')
      ? tx`coalesce(r.language, (select c0.language from contacts c0
                                 where c0.company_id = ${companyId} and c0.dedupe_key = r.contact_key), 'en')`
      : tx`coalesce(r.language, 'en')`;
  const rows = await tx<{ region: string; reason: string | null; created: number; updated: number }[]>`
    with upserted as (
      insert into contacts as c (company_id, customer_id, location_id, external_id, dedupe_key, first_name, last_name,
        middle_name, phone_e164, email, timezone, zip, state, region, region_reason, language, consent_source, data,
        first_packet_id, last_packet_id)
      select ${companyId}, ${refs.customer}, ${refs.location}, r.external_id, r.contact_key,
        r.first_name, r.last_name, r.middle_name, r.phone_e164, r.email,
        coalesce(r.timezone, rs.timezone, r.phone_timezone, ${context.company.timezone}),
        r.zip, coalesce(r.state, r.zip_state), coalesce(rg.code, 'unassigned'),
        case when rg.code is not null then null
             when r.state is not null then 'state ' || r.state || ' belongs to no active region'
             when r.zip is not null and r.zip_state is null then 'ZIP ' || r.zip || ' matches no known ZIP prefix'
             when r.zip is not null then 'ZIP ' || r.zip || ' is in ' || r.zip_state || ', which belongs to no active region'
             else 'the row has no state or ZIP' end,
        ${language}, r.consent_source,
        case when r.appointment_key is null then ${blanks.clearsExtras ? tx`jsonb_strip_nulls(r.data)` : tx`r.data`} else '{}'::jsonb end,
        ${packetId}, ${packetId}
      from (select distinct on (contact_key) * from packet_rows where packet_id = ${packetId}
            order by contact_key, row_number desc) r
      -- zip_state was looked up when the row was mapped (lib/clean/zip-prefix.ts, the one ZIP table)
      left join region_states rs on rs.state = coalesce(r.state, r.zip_state)
      left join regions rg on rg.code = rs.region_code and rg.active
      ${refs.joins}
      on conflict (company_id, dedupe_key) do update set
        customer_id = ${kept(['provider', 'provider_id'], 'customer_id')},
        location_id = ${kept(['location', 'location_id'], 'location_id')},
        external_id = ${kept(['external_id'], 'external_id')},
        first_name = excluded.first_name,
        last_name = excluded.last_name,
        middle_name = ${kept(['middle_name'], 'middle_name')},
        phone_e164 = ${kept(['phone'], 'phone_e164')},
        email = ${kept(['email'], 'email')},
        zip = ${kept(['zip'], 'zip')},
        state = ${kept(['state'], 'state')},
        -- a row without state or ZIP does not undo what an earlier file told us
        region = case when excluded.region = 'unassigned' then c.region else excluded.region end,
        region_reason = case when excluded.region = 'unassigned' and c.region <> 'unassigned' then c.region_reason else excluded.region_reason end,
        timezone = case when excluded.region = 'unassigned' and c.region <> 'unassigned' and excluded.timezone is not distinct from ${context.company.timezone}
                        then c.timezone else excluded.timezone end,
        language = ${readsLanguage ? tx`excluded.language` : tx`c.language`},
        consent_source = ${kept(['consent_source'], 'consent_source')},
        data = ${blanks.clearsExtras ? tx`jsonb_strip_nulls(c.data || excluded.data)` : tx`c.data || excluded.data`},
        last_packet_id = excluded.last_packet_id
      returning c.region, c.region_reason, (xmax = 0) as inserted
    )
    select region, region_reason as reason,
           count(*) filter (where inserted)::int as created, count(*) filter (where not inserted)::int as updated
    from upserted group by region, region_reason order by region, region_reason`;
  return {
    created: rows.reduce((n, r) => n + r.created, 0),
    updated: rows.reduce((n, r) => n + r.updated, 0),
    regions: rows.map((r) => ({ region: r.region, reason: r.reason, contacts: r.created + r.updated })),
  };
}

async function upsertAppointments(
  tx: TransactionSql,
  context: PacketContext,
  refs: References,
  blanks: BlankCellRule,
) {
  const companyId = context.company.id;
  const packetId = context.packet.id;
  const clears = (fields: CanonicalField[]) => fields.some((f) => blanks.clears.has(f));
  // One statement: the file's appointments (the last row of each wins) are inserted or updated. Their
  // reminders are computed from what they are at each reminder run (lib/messages/due-steps.ts): a moved
  // appointment's steps fall due again for its new time, and a cancelled one's pending messages are
  // cancelled by the run's screening.
  const [counts] = await tx<{ kept: number; created: number; updated: number }[]>`
    with src as materialized (
      select distinct on (appointment_key) appointment_key, contact_key, starts_at, appointment_timezone,
             appointment_status, appointment_external_id, provider, provider_id, location, location_id, data
      from packet_rows where packet_id = ${packetId} and appointment_key is not null
      order by appointment_key, row_number desc
    ),
    upserted as (
      insert into appointments as a (company_id, contact_id, customer_id, location_id, external_id, dedupe_key,
        starts_at, timezone, status, data, first_packet_id, last_packet_id)
      select ${companyId}, c.id, ${refs.customer}, ${refs.location}, r.appointment_external_id,
        r.appointment_key, r.starts_at, r.appointment_timezone, r.appointment_status,
        ${blanks.clearsExtras ? tx`jsonb_strip_nulls(r.data)` : tx`r.data`}
          || jsonb_strip_nulls(jsonb_build_object('provider', r.provider, 'location', r.location)),
        ${packetId}, ${packetId}
      from src r
      join contacts c on c.company_id = ${companyId} and c.dedupe_key = r.contact_key
      ${refs.joins}
      on conflict (company_id, dedupe_key) do update set
        contact_id = excluded.contact_id,
        customer_id = ${clears(['provider', 'provider_id']) ? tx`excluded.customer_id` : tx`coalesce(excluded.customer_id, a.customer_id)`},
        location_id = ${clears(['location', 'location_id']) ? tx`excluded.location_id` : tx`coalesce(excluded.location_id, a.location_id)`},
        external_id = ${clears(['appointment_id']) ? tx`excluded.external_id` : tx`coalesce(excluded.external_id, a.external_id)`},
        starts_at = excluded.starts_at,
        -- when herald learned this time, and the one it replaced: a reminder for it can say it moved
        starts_at_set_at = case when a.starts_at = excluded.starts_at then a.starts_at_set_at else now() end,
        previous_starts_at = case when a.starts_at = excluded.starts_at then a.previous_starts_at else a.starts_at end,
        timezone = excluded.timezone,
        -- a confirmation or reschedule request came from the person; a file that still says
        -- "scheduled" for the same time does not erase it
        status = case when excluded.status = 'scheduled' and a.starts_at = excluded.starts_at
                           and a.status in ('confirmed', 'reschedule_requested') then a.status
                      else excluded.status end,
        -- extra columns and provider/location: a blank cell keeps the stored value unless blankCells: clear
        data = ${blanks.clearsExtras ? tx`excluded.data` : tx`a.data || excluded.data`},
        last_packet_id = excluded.last_packet_id
      returning (xmax = 0) as inserted
    )
    select (select count(*)::int from src) as kept,
           count(*) filter (where inserted)::int as created,
           count(*) filter (where not inserted)::int as updated
    from upserted`;
  return counts!;
}

/**
 * A feed without appointment ids keys an appointment by its contact and time, so a moved time arrives
 * as a new appointment and the old one would keep its reminders. The file is the truth for the days
 * it covers (its first to its last appointment day, each in the appointment's zone): an appointment
 * of the same feed (the same source; for uploads, the same load map) on those days that the file no
 * longer lists is cancelled; the reminder run's screening cancels its pending messages and makes no
 * more. Appointments outside those days are left alone, so a daily file does not cancel tomorrow's.
 */
async function supersedeMissingAppointments(tx: TransactionSql, context: PacketContext): Promise<number> {
  const companyId = context.company.id;
  const packetId = context.packet.id;
  const sameFeed = context.source
    ? tx`p.source_id = ${context.source.id}`
    : tx`p.source_id is null and p.load_map_id in (
           select id from company_load_maps where company_id = ${companyId} and name = ${context.loadMap.name})`;
  const [counts] = await tx<{ appointments: number }[]>`
    with covered as (
      select min((starts_at at time zone appointment_timezone)::date) as first_day,
             max((starts_at at time zone appointment_timezone)::date) as last_day,
             min(starts_at) as earliest, max(starts_at) as latest
      from packet_rows where packet_id = ${packetId} and appointment_key is not null
    ),
    superseded as (
      update appointments a set status = 'cancelled', last_packet_id = ${packetId}
      from covered
      where a.company_id = ${companyId}
        -- a day is at most 26 hours from UTC either side: the index narrows, the zone decides
        and a.starts_at >= covered.earliest - interval '2 days' and a.starts_at < covered.latest + interval '2 days'
        and (a.starts_at at time zone coalesce(a.timezone, ${context.company.timezone}))::date
            between covered.first_day and covered.last_day
        and a.status not in ('cancelled', 'completed')
        and a.last_packet_id <> ${packetId}
        and a.last_packet_id in (select p.id from data_packets p where p.company_id = ${companyId} and ${sameFeed})
      returning a.id
    )
    select count(*)::int as appointments from superseded`;
  return counts!.appointments;
}
