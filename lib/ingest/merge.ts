// Merges a packet's staged rows into contacts and appointments in one transaction: all of them or none.
import type { Sql, TransactionSql } from '../db';
import { watchCancellation } from './cancellable-transaction';
import { blankCellRule } from './blank-cells';
import {
  createBeforeFileTables,
  currentXid,
  upsertAppointments,
  upsertContacts,
  referenceJoins,
  type RangeMerge,
} from './merge-rows';
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

/** The last row number a merge can be told to merge through: every row of the packet. */
const EVERY_ROW = 2 ** 31 - 1;

/**
 * A merge whose transaction stays open while staging commits the packet's rows, merging each
 * committed chunk while the next one is parsed; nothing of it is visible until `finish` commits.
 */
export interface MergeAlongside {
  /** merges (in the background, in file order) the staged rows up to and including `row` */
  through(row: number): void;
  /** merges the rest, checks the staged count, records the result (with `record` in the metadata), commits */
  finish(record?: Record<string, unknown>): Promise<MergeResult | StagingLost>;
  /** rolls the merge back; nothing of it commits */
  abandon(): Promise<void>;
}

/**
 * Within the file the last row of a contact (or appointment) wins; against the database, a contact or
 * appointment with the same dedupe key is updated, a blank cell keeping what was stored before the
 * file (lib/ingest/merge-rows.ts). A replay merges its rows again: what they say now replaces what the
 * packet's earlier run wrote, and appointments that run loaded which this one no longer does are
 * cancelled (contacts stay). Messages are not touched: the reminder run makes them when their steps
 * fall due, and its screening cancels the pending ones of cancelled appointments.
 */
export async function mergePacketRows(
  sql: Sql,
  context: PacketContext,
  opts: { signal?: AbortSignal } = {},
): Promise<MergeResult | StagingLost> {
  const merge = openMerge(sql, context, { signal: opts.signal, lock: 'wait' });
  const opened = await merge.opened;
  if (opened !== 'open') return opened === 'busy' ? neverBusy() : opened;
  return merge.session.finish();
}

function neverBusy(): never {
  throw new Error('the merge waited for the company lock and still found it busy');
}

/**
 * Starts a merge beside staging, for a packet whose staging starts now: `busy` when another packet of
 * the company is merging (the packet is then merged after staging, by mergePacketRows, as before).
 * `header` is the file's header as read, which the blank-cell rule needs before the first row merges.
 */
export async function mergeAlongsideStaging(
  sql: Sql,
  context: PacketContext,
  header: readonly string[],
  opts: { signal?: AbortSignal },
): Promise<MergeAlongside | 'busy'> {
  const merge = openMerge(sql, context, { signal: opts.signal, lock: 'try', header });
  const opened = await merge.opened;
  if (opened === 'busy') return 'busy';
  if (opened !== 'open') {
    // a merge that a new staging's start cleared cannot have a result; one that has is not this staging's
    throw new Error(`packet ${context.packet.id} is already merged; its staging should have cleared that`);
  }
  return merge.session;
}

/** What a merge's transaction is told: the rows through which to merge, and when staging is over. */
class RowFeed {
  private target = 0;
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  push(row: number): void {
    this.target = Math.max(this.target, row);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  fail(error: unknown): void {
    this.failure = error;
    this.wake?.();
  }

  /** The next row to merge through, once it is past `merged`; undefined when staging is over and it is not. */
  async next(merged: number): Promise<number | undefined> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.target > merged) return this.target;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

type Opened = 'open' | 'busy' | MergeResult;

/** Thrown inside the merge's transaction to roll it back and return `result` instead. */
class RolledBack extends Error {
  constructor(readonly result: StagingLost) {
    super('the merge found fewer staged rows than staging committed');
  }
}

function openMerge(
  sql: Sql,
  context: PacketContext,
  opts: { signal?: AbortSignal; lock: 'wait' | 'try'; header?: readonly string[] },
) {
  const feed = new RowFeed();
  let record: Record<string, unknown> = {};
  let announce!: (opened: Opened) => void;
  let failToOpen!: (error: unknown) => void;
  const opened = new Promise<Opened>((resolve, reject) => {
    announce = resolve;
    failToOpen = reject;
  });
  opened.catch(() => {});
  let failed: unknown;
  const done = (async () => {
    try {
      return (await sql.begin(async (tx) => {
        // a cancelled ingest merges nothing: the cancel stops the merge's statement and rolls it back
        const watch = await watchCancellation(sql, tx, opts.signal);
        try {
          const started = await startInTransaction(tx, context, opts);
          if (started === 'busy' || !('merge' in started)) {
            announce(started === 'busy' ? 'busy' : started);
            return started;
          }
          announce('open');
          let merged = 0;
          for (
            let through = await feed.next(merged);
            through !== undefined;
            through = await feed.next(merged)
          ) {
            await mergeRowsThrough(started.merge, merged, through);
            merged = through;
          }
          const result = await finishInTransaction(started.merge, record);
          watch.check();
          // what was merged from rows that are not all there must not commit
          if ('stagingLost' in result) throw new RolledBack(result);
          return result;
        } finally {
          watch.stop();
        }
      })) as Awaited<ReturnType<typeof startInTransaction>> | MergeResult | StagingLost;
    } catch (error) {
      if (error instanceof RolledBack) return error.result;
      // a statement stopped by the cancellation fails as cancelled, not as a database error
      failed = opts.signal?.aborted ? opts.signal.reason : error;
      // a failure before the merge opened is the opener's error (once open, this does nothing)
      failToOpen(failed);
      throw failed;
    }
  })();
  done.catch(() => {});
  const session: MergeAlongside = {
    through(row) {
      if (failed !== undefined) throw failed;
      feed.push(row);
    },
    async finish(extra) {
      record = extra ?? {};
      feed.push(EVERY_ROW);
      feed.end();
      return (await done) as MergeResult | StagingLost;
    },
    async abandon() {
      feed.fail(new Error('the merge was abandoned with its staging'));
      await done.catch(() => {});
    },
  };
  return { session, opened };
}

interface OpenState {
  merge: RangeMerge & {
    /** rows written since each table's statistics were last taken */
    changed: Map<AnalyzedTable, number>;
    /** contacts and appointments new to the database; with those copied as they were before, every one the file names */
    inserted: { contacts: number; appointments: number };
    /** staged rows the merged ranges held: every row of the packet, once the last range is merged */
    staged: number;
  };
}

async function startInTransaction(
  tx: TransactionSql,
  context: PacketContext,
  opts: { lock: 'wait' | 'try'; header?: readonly string[] },
): Promise<OpenState | 'busy' | MergeResult> {
  const packetId = context.packet.id;
  const [packet] = await tx<
    { merged_at: Date | null; metadata: { merge?: MergeResult; header?: string[] } }[]
  >`
    select merged_at, metadata from data_packets where id = ${packetId}`;
  // a retried merge whose first attempt committed (a new staging clears the mark)
  if (packet?.merged_at && packet.metadata.merge) return packet.metadata.merge;
  // two packets of one company merge one after the other: overlapping rows would otherwise deadlock
  if (opts.lock === 'wait') {
    await tx`select pg_advisory_xact_lock(${context.company.id}, ${COMPANY_INGEST_LOCK})`;
  } else {
    const [taken] = await tx<{ ok: boolean }[]>`
      select pg_try_advisory_xact_lock(${context.company.id}, ${COMPANY_INGEST_LOCK}) as ok`;
    if (!taken!.ok) return 'busy';
  }
  // the merge sorts a range's rows by key; in memory that is far faster than on disk
  await tx`set local work_mem = '256MB'`;
  await createBeforeFileTables(tx);
  return {
    merge: {
      tx,
      context,
      blanks: blankCellRule(context.loadMap.compiled, opts.header ?? packet?.metadata.header),
      refs: await referenceJoins(tx, context.company.id),
      xid: await currentXid(tx),
      changed: new Map(),
      inserted: { contacts: 0, appointments: 0 },
      staged: 0,
    },
  };
}

type AnalyzedTable = 'packet_rows' | 'contacts' | 'appointments';

/**
 * The columns the merge's own statements join, group and filter on: the only statistics its plans
 * read. The other columns keep theirs until autovacuum analyzes the whole table, which it still does:
 * the rows the merge wrote count towards its threshold when the merge commits.
 */
const MERGE_PLAN_COLUMNS: Record<AnalyzedTable, string[]> = {
  packet_rows: ['packet_id', 'row_number', 'contact_key', 'appointment_key'],
  contacts: ['company_id', 'dedupe_key'],
  appointments: ['company_id', 'dedupe_key', 'starts_at', 'last_packet_id', 'status'],
};

async function mergeRowsThrough(m: OpenState['merge'], after: number, through: number): Promise<void> {
  const grew = (table: AnalyzedTable, rows: number) =>
    m.changed.set(table, (m.changed.get(table) ?? 0) + rows);
  const [staged] = await m.tx<{ rows: number }[]>`
    select count(*)::int as rows from packet_rows
    where packet_id = ${m.context.packet.id} and row_number > ${after} and row_number <= ${through}`;
  grew('packet_rows', staged!.rows);
  m.staged += staged!.rows;
  await analyzeIfGrown(m, 'packet_rows');
  const contacts = await upsertContacts(m, after, through);
  grew('contacts', contacts.written);
  m.inserted.contacts += contacts.inserted;
  // the appointments join the contacts just written: planned for the table as it was, that join was a
  // nested loop over a scan of every contact
  await analyzeIfGrown(m, 'contacts');
  const appointments = await upsertAppointments(m, after, through);
  grew('appointments', appointments.written);
  m.inserted.appointments += appointments.inserted;
  await analyzeIfGrown(m, 'appointments');
}

async function finishInTransaction(
  m: OpenState['merge'],
  record: Record<string, unknown>,
): Promise<MergeResult | StagingLost> {
  const { tx, context } = m;
  const packetId = context.packet.id;
  const companyId = context.company.id;
  const [packet] = await tx<{ rows_staged: number | null }[]>`
    select rows_staged from data_packets where id = ${packetId} for update`;
  if (m.staged !== packet?.rows_staged)
    return { stagingLost: { staged: packet?.rows_staged ?? null, found: m.staged } };
  const dropped = await dropUnlistedAppointments(m);
  const superseded = context.loadMap.compiled.appointmentKeyFields
    ? 0
    : await supersedeMissingAppointments(tx, context);
  // one pass over the staged rows for both: the contacts the file names by region, and those it names
  // in a row without an appointment (every key the file names has its contact: the upsert wrote it)
  const byRegion = await tx<(RegionCount & { contactOnly: number })[]>`
    select c.region, c.region_reason as reason, count(*)::int as contacts,
           count(*) filter (where k.contact_only)::int as "contactOnly"
    from (select contact_key, bool_or(appointment_key is null) as contact_only
          from packet_rows where packet_id = ${packetId} group by contact_key) k
    join contacts c on c.company_id = ${companyId} and c.dedupe_key = k.contact_key
    group by c.region, c.region_reason order by c.region, c.region_reason`;
  const [before] = await tx<{ contacts: number; appointments: number }[]>`
    select (select count(*)::int from merge_contacts_before) as contacts,
           (select count(*)::int from merge_appointments_before) as appointments`;
  const contactOnly = byRegion.reduce((n, r) => n + r.contactOnly, 0);
  const kept = m.inserted.appointments + before!.appointments + contactOnly;
  const result: MergeResult = {
    rowsLoaded: kept,
    rowsDuplicate: m.staged - kept,
    contactsCreated: m.inserted.contacts,
    contactsUpdated: before!.contacts,
    appointmentsCreated: m.inserted.appointments,
    appointmentsUpdated: before!.appointments,
    appointmentsDropped: dropped,
    appointmentsSuperseded: superseded,
    regions: byRegion.map(({ region, reason, contacts }) => ({ region, reason, contacts })),
  };
  await tx`
    update data_packets
    set merged_at = now(), rows_loaded = ${result.rowsLoaded}, rows_duplicate = ${result.rowsDuplicate},
        metadata = metadata || ${tx.json({ ...record, merge: result } as never)}
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
async function dropUnlistedAppointments(m: OpenState['merge']): Promise<number> {
  const companyId = m.context.company.id;
  const packetId = m.context.packet.id;
  // an appointment this merge wrote came from a staged row: only the others can be unlisted
  const dropped = await m.tx`
    update appointments a set status = 'cancelled'
    where a.company_id = ${companyId} and a.last_packet_id = ${packetId} and a.status <> 'cancelled'
      and not a.xmin = ${m.xid}::xid
      and not exists (select 1 from packet_rows r where r.packet_id = ${packetId} and r.appointment_key = a.dedupe_key)`;
  return dropped.count;
}

/**
 * Refreshes the planner's statistics of a table this merge has doubled (and grown by 1,000 rows or
 * more) since they were last taken. Autovacuum cannot see a transaction's own rows, so the next
 * statement would be planned for the table as it was: an appointment upsert of 180,000 rows joined to
 * a contacts table the planner believed held 236 rows as a nested loop over a scan, and ran for
 * minutes. ANALYZE in the transaction counts its own rows, and its statistics commit (or roll back)
 * with the packet. Doubling, not a tenth: the planner scales the rows it last counted by the table's
 * pages now, so statistics from half the size still estimate the size. A tenth analyzed packet_rows and
 * appointments 23 times each in a million-row file (with contacts', active 7.4 s of a 77 s ingest in
 * pg_stat_activity sampled every 200 ms); doubling, 6 times. Only the columns the merge's plans read
 * (a fraction of each table's) are analyzed: 2.3–2.6 s against 6.0–6.3 s at 1M rows beside staging.
 */
async function analyzeIfGrown(m: OpenState['merge'], table: AnalyzedTable): Promise<void> {
  const changed = m.changed.get(table) ?? 0;
  if (changed < 1_000) return;
  const [stats] = await m.tx<{ rows: number }[]>`
    select greatest(reltuples, 0)::float8 as rows from pg_class where oid = ${table}::regclass`;
  if (changed < (stats?.rows ?? 0)) return;
  await m.tx`analyze ${m.tx(table)} (${m.tx(MERGE_PLAN_COLUMNS[table])})`;
  m.changed.set(table, 0);
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
