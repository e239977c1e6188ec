// Reads one page of a company's due messages in a region, screens each, and writes deferrals, expiries, cancellations and skips.
import type { Sql, TransactionSql } from '../db';
import { droppedFromFeed } from '../messages/due-steps';
import { recordMessageEvents } from '../messages/events';
import { moveMessages } from '../messages/move';
import { companyRules, type Channel } from './quiet-hours';
import { screenMessage, type DueMessage, type Screening } from './screen';
import { parseReminderSettings, type QuietHoursPolicy } from '../../schemas/reminder-settings';

/** Keyset position: contact time (microseconds, as text) and id of the last message read. */
export interface PageCursor {
  afterAt: string;
  afterId: number;
}

export interface ScreenPageInput {
  companyId: number;
  /** unset: every region's (a run's own first page, its most urgent messages wherever they are) */
  region?: string;
  /** the run's clock (ISO): what is due, and the local time quiet hours look at */
  now: string;
  cursor?: PageCursor;
  limit: number;
  /** who screens (the reminder-run or reminder-region workflow id): ready messages carry it */
  screenedBy?: string;
  /**
   * messages screened ready by this workflow are passed over: its run's first page, which the run
   * sends itself (a region must not take them over while the run's batch has yet to claim them)
   */
  passOver?: string;
}

export interface ScreenCounts {
  seen: number;
  deferred: number;
  expired: number;
  cancelled: number;
  skipped: number;
  /** left scheduled and due, per channel: what dispatch will send */
  ready: Record<Channel, number>;
}

export interface ScreenPageResult extends ScreenCounts {
  /** where the next page starts; undefined when this was the last */
  next?: PageCursor;
  /** what this page marked ready, per channel, most urgent first: what its region sends next */
  readyIds: Record<Channel, number[]>;
}

export const emptyCounts = (): ScreenCounts => ({
  seen: 0,
  deferred: 0,
  expired: 0,
  cancelled: 0,
  skipped: 0,
  ready: { sms: 0, voice: 0, email: 0 },
});

interface Row {
  id: number;
  uuid: string;
  channel: Channel;
  contact_at: Date;
  cursor_at: string;
  expires_at: Date | null;
  appointment_at: Date | null;
  appointment_status: string | null;
  dropped_from: string | null;
  starts_at: Date | null;
  enrollment_status: string | null;
  enrollment_reason: string | null;
  timezone: string | null;
  state: string | null;
  zip: string | null;
  phone_e164: string | null;
  do_not_sms: boolean;
  do_not_call: boolean;
  do_not_email: boolean;
  blocked_by: string | null;
}

const toDue = (r: Row): DueMessage => ({
  id: r.id,
  uuid: r.uuid,
  channel: r.channel,
  contactAt: r.contact_at,
  expiresAt: r.expires_at,
  appointmentAt: r.appointment_at,
  appointment:
    r.appointment_status && r.starts_at
      ? { status: r.appointment_status, startsAt: r.starts_at, droppedFrom: r.dropped_from }
      : null,
  enrollment: r.enrollment_status ? { status: r.enrollment_status, reason: r.enrollment_reason } : null,
  contact: {
    timezone: r.timezone,
    state: r.state,
    zip: r.zip,
    phone: r.phone_e164,
    doNotSms: r.do_not_sms,
    doNotCall: r.do_not_call,
    doNotEmail: r.do_not_email,
  },
  blockedBy: r.blocked_by,
});

async function readPage(sql: Sql, input: ScreenPageInput): Promise<Row[]> {
  const after = input.cursor;
  return sql<Row[]>`
    select m.id, m.uuid, m.channel, m.contact_at, m.expires_at, m.appointment_at,
           to_char(m.contact_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at,
           a.status as appointment_status, a.starts_at,
           case when a.id is not null and ${droppedFromFeed(sql, input.companyId)} then
             (select s.name from data_packets p join data_ingest_sources s on s.id = p.source_id
              where p.id = a.last_packet_id and p.company_id = a.company_id) end as dropped_from,
           e.status as enrollment_status, e.status_reason as enrollment_reason,
           c.timezone, c.state, c.zip, c.phone_e164, c.do_not_sms, c.do_not_call, c.do_not_email,
           (select b.name from contact_blocks b
            where b.company_id = m.company_id and b.purpose = 'block' and b.active and herald_block_matches(b.criteria, c)
            order by b.id limit 1) as blocked_by
    from messages m
    join contacts c on c.id = m.contact_id and c.company_id = m.company_id
    left join appointments a on a.id = m.appointment_id and a.company_id = m.company_id
    -- an answer stops the reminders of the time it was about; an opt-out stops them all
    left join reminder_enrollments e on e.appointment_id = m.appointment_id
      and (e.status = 'opted_out' or m.appointment_at is null or e.appointment_at = m.appointment_at)
    where m.company_id = ${input.companyId} and m.state = 'scheduled' and m.contact_at <= ${input.now}
      and ${input.region === undefined ? sql`true` : sql`m.region = ${input.region}`}
      and ${input.passOver === undefined ? sql`true` : sql`m.screened_by is distinct from ${input.passOver}`}
      -- as text: a timestamptz parameter would pass through a JS Date and lose its microseconds
      and ${after ? sql`(m.contact_at, m.id) > (${after.afterAt}::text::timestamptz, ${after.afterId})` : sql`true`}
    order by m.contact_at, m.id
    limit ${input.limit}`;
}

async function defer(
  tx: TransactionSql,
  companyId: number,
  list: readonly { id: number; until: Date; reason: string }[],
): Promise<number> {
  if (!list.length) return 0;
  const rows = await tx<
    { id: number; uuid: string; channel: Channel; deferrals: number; status_description: string }[]
  >`
    update messages m
    set contact_at = v.until, planned_contact_at = coalesce(m.planned_contact_at, m.contact_at),
        deferrals = m.deferrals + 1, status_description = v.reason, last_event_at = now(),
        screened_by = null, send_by = null
    from unnest(${tx.array(list.map((d) => d.id))}::bigint[], ${tx.array(list.map((d) => d.until.toISOString()))}::timestamptz[],
                ${tx.array(list.map((d) => d.reason))}::text[]) as v(id, until, reason)
    where m.id = v.id and m.company_id = ${companyId} and m.state = 'scheduled'
    returning m.id, m.uuid, m.channel, m.deferrals, m.status_description`;
  // still scheduled: a deferral is an event, not a move
  await recordMessageEvents(
    tx,
    companyId,
    rows.map((r) => ({
      messageId: r.id,
      channel: r.channel,
      eventId: `deferred:${r.uuid}:${r.deferrals}`,
      type: 'deferred',
      status: 'scheduled',
      reason: r.status_description,
    })),
  );
  return rows.length;
}

/**
 * Marks what screening let through: who screened it, and when it may no longer be claimed (send_by):
 * when the recipient's allowed hours end, counted on the database's clock from the run's (a run "as
 * of" another time keeps the same margin), or its deadline (the appointment) if that comes first,
 * as it is: a run whose clock is behind (a late schedule, a catch-up) never sends for an appointment
 * that has passed. A message changed since it was read (no longer scheduled) is not marked, and not
 * counted ready.
 */
async function markReady(
  tx: Sql | TransactionSql,
  input: ScreenPageInput,
  ready: readonly { id: number; sendBy?: Date; deadline: Date | null }[],
): Promise<{ id: number; channel: Channel }[]> {
  if (!ready.length) return [];
  const runClock = new Date(input.now).getTime();
  return tx<{ id: number; channel: Channel }[]>`
    update messages m
    set screened_by = ${input.screenedBy ?? null},
        -- least() passes over nulls: null only when neither bounds it
        send_by = least(case when v.left_ms < 0 then null else now() + v.left_ms * interval '1 millisecond' end,
                        v.deadline)
    from unnest(${tx.array(ready.map((r) => r.id))}::bigint[],
                ${tx.array(ready.map((r) => (r.sendBy ? Math.max(0, r.sendBy.getTime() - runClock) : -1)))}::bigint[],
                ${tx.array(ready.map((r) => r.deadline?.toISOString() ?? null))}::timestamptz[])
         as v(id, left_ms, deadline)
    where m.id = v.id and m.company_id = ${input.companyId} and m.state = 'scheduled'
    returning m.id, m.channel`;
}

export async function screenDuePage(
  sql: Sql,
  policy: QuietHoursPolicy,
  input: ScreenPageInput,
): Promise<ScreenPageResult> {
  const [company] = await sql<{ timezone: string; settings: unknown }[]>`
    select timezone, settings from companies where id = ${input.companyId}`;
  if (!company) throw new Error(`no company has id ${input.companyId}`);
  const settings = parseReminderSettings(company.settings);
  const ctx = {
    now: new Date(input.now),
    companyTimezone: company.timezone,
    rules: companyRules(policy, settings.quietHours),
  };
  const rows = await readPage(sql, input);
  const decisions = rows.map((r) => ({ row: r, screening: screenMessage(toDue(r), ctx) }));
  const of = <K extends Screening['kind']>(kind: K) =>
    decisions.flatMap((d) =>
      d.screening.kind === kind ? [{ row: d.row, s: d.screening as Extract<Screening, { kind: K }> }] : [],
    );

  const counts = emptyCounts();
  counts.seen = rows.length;
  const readyIds: Record<Channel, number[]> = { sms: [], voice: [], email: [] };
  const deferred = of('defer').map(({ row, s }) => ({ id: row.id, until: s.until, reason: s.reason }));
  const final = (['expired', 'cancelled', 'skipped'] as const).flatMap((to) =>
    of(to).map(({ row, s }) => ({ id: row.id, to, reason: s.reason })),
  );
  const ready = of('ready').map(({ row, s }) => ({
    id: row.id,
    sendBy: s.sendBy,
    deadline: row.expires_at ?? row.starts_at,
  }));
  const markReadyInOrder = async (tx: Sql | TransactionSql) => {
    const marked = new Map((await markReady(tx, input, ready)).map((m) => [m.id, m.channel]));
    // in page order (contact time), not the update's
    for (const { id } of ready) {
      const channel = marked.get(id);
      if (!channel) continue;
      counts.ready[channel]++;
      readyIds[channel].push(id);
    }
  };
  // a page of ready messages alone is one statement, with no begin and commit to wait for: its sends
  // start that much sooner
  if (!deferred.length && !final.length) await markReadyInOrder(sql);
  else
    await sql.begin(async (t) => {
      const tx = t as TransactionSql;
      counts.deferred = await defer(tx, input.companyId, deferred);
      for (const moved of await moveMessages(tx, input.companyId, final, { from: ['scheduled'] }))
        counts[moved.state as 'expired' | 'cancelled' | 'skipped']++;
      await markReadyInOrder(tx);
    });
  const last = rows[rows.length - 1];
  return {
    ...counts,
    readyIds,
    next: rows.length === input.limit && last ? { afterAt: last.cursor_at, afterId: last.id } : undefined,
  };
}
