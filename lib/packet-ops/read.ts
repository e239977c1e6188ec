// What operators read about packets: the list, one packet's stage log and counts, and its rejected rows.
import type { Sql } from '../db';
import { readPacketSummary, type PacketSummary } from '../ingest/summary';
import { InvalidReminderPlan, loadCompanyPlan } from '../messages/due-steps';
import { packetReminders, type PacketReminders } from '../messages/upcoming';
import type { PacketRow, PacketStage } from '../packets';

export class PacketNotFound extends Error {
  constructor(id: string) {
    super(`no packet has the id ${id}`);
    this.name = 'PacketNotFound';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The packet with its company alias; ids are the packets' uuids (what the UI and CLI show). */
export async function findPacket(sql: Sql, id: string): Promise<PacketRow & { company_alias: string }> {
  if (!UUID.test(id)) throw new PacketNotFound(id);
  const [packet] = await sql<(PacketRow & { company_alias: string })[]>`
    select p.*, c.alias as company_alias from data_packets p join companies c on c.id = p.company_id where p.uuid = ${id}`;
  if (!packet) throw new PacketNotFound(id);
  return packet;
}

export interface PacketListItem {
  packetId: string;
  company: string;
  fileName: string;
  stage: PacketStage;
  rowsRead: number;
  rowsLoaded: number;
  rowsRejected: number;
  createdAt: Date;
  finishedAt: Date | null;
  error: string | null;
}

export async function listPackets(
  sql: Sql,
  filters: { companyAlias?: string; stage?: PacketStage; since?: Date; limit: number },
): Promise<PacketListItem[]> {
  const rows = await sql<
    {
      uuid: string;
      alias: string;
      original_name: string | null;
      object_key: string;
      stage: PacketStage;
      rows_read: number;
      rows_loaded: number;
      rows_rejected: number;
      created_at: Date;
      finished_at: Date | null;
      error: string | null;
    }[]
  >`
    select p.uuid, c.alias, p.original_name, p.object_key, p.stage, p.rows_read, p.rows_loaded, p.rows_rejected,
           p.created_at, p.finished_at, p.error
    from data_packets p join companies c on c.id = p.company_id
    where (${filters.companyAlias ?? null}::text is null or c.alias = ${filters.companyAlias ?? null})
      and (${filters.stage ?? null}::text is null or p.stage = ${filters.stage ?? null})
      and (${filters.since ?? null}::timestamptz is null or p.created_at >= ${filters.since ?? null})
    order by p.created_at desc, p.id desc
    limit ${filters.limit}`;
  return rows.map((r) => ({
    packetId: r.uuid,
    company: r.alias,
    fileName: r.original_name ?? r.object_key.split('/').pop()!,
    stage: r.stage,
    rowsRead: r.rows_read,
    rowsLoaded: r.rows_loaded,
    rowsRejected: r.rows_rejected,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    error: r.error,
  }));
}

export interface PacketEvent {
  at: Date;
  stage: string;
  event: string;
  actor: string;
  details: Record<string, unknown>;
}

export interface RejectReason {
  column: string | null;
  reason: string;
  rows: number;
  firstRow: number;
}

export interface PacketDetail extends PacketSummary {
  objectKey: string;
  createdAt: Date;
  finishedAt: Date | null;
  events: PacketEvent[];
  /** the most frequent reasons rows were rejected, with the first row number of each */
  rejectReasons: RejectReason[];
  /** what its appointments have had and will get, computed from the company's plan now (or why not) */
  reminders: PacketReminders | { problem: string };
}

export async function packetDetail(sql: Sql, id: string): Promise<PacketDetail> {
  const packet = await findPacket(sql, id);
  const summary = (await readPacketSummary(sql, packet.uuid))!;
  const events = await sql<PacketEvent[]>`
    select at, stage, event, actor, details from packet_events
    where packet_id = ${packet.id} and company_id = ${packet.company_id} order by id`;
  const rejectReasons = await sql<RejectReason[]>`
    select column_name as column, reason, count(*)::int as rows, min(row_number)::int as "firstRow"
    from packet_rejects where packet_id = ${packet.id} and company_id = ${packet.company_id}
    group by column_name, reason order by count(*) desc, min(row_number) limit 10`;
  return {
    ...summary,
    objectKey: packet.object_key,
    createdAt: packet.created_at,
    finishedAt: packet.finished_at,
    events,
    rejectReasons,
    reminders: await remindersOf(sql, packet),
  };
}

async function remindersOf(sql: Sql, packet: PacketRow): Promise<PacketReminders | { problem: string }> {
  try {
    const plan = await loadCompanyPlan(sql, packet.company_id);
    if (!plan) return { problem: 'its company no longer exists' };
    return await packetReminders(sql, plan, packet.id, new Date().toISOString());
  } catch (err) {
    if (err instanceof InvalidReminderPlan) return { problem: err.message };
    throw err;
  }
}

export interface RejectRow {
  row_number: number;
  column_name: string | null;
  raw_value: string | null;
  reason: string;
}

export async function packetRejects(
  sql: Sql,
  packet: Pick<PacketRow, 'id' | 'company_id'>,
): Promise<RejectRow[]> {
  return sql<RejectRow[]>`
    select row_number, column_name, raw_value, reason from packet_rejects
    where packet_id = ${packet.id} and company_id = ${packet.company_id} order by row_number, id`;
}
