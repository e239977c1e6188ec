// Data packets: one per file, registered idempotently, with stage changes written to the packet and its event log.
import type { Sql, TransactionSql } from './db';

export const PACKET_STAGES = [
  'received',
  'fetched',
  'parsed',
  'loaded',
  /** the merge's contacts counted by region (and why some have none), recorded on the packet */
  'regions_counted',
  'planned',
  'done',
  'failed',
  'cancelled',
  /** waiting for an operator (a drifted header, garbled text): `herald packets release` runs it again */
  'held',
] as const;
export type PacketStage = (typeof PACKET_STAGES)[number];

/**
 * Stage words of earlier releases, still accepted where an operator types a stage: `sharded` was the
 * name of `regions_counted`, though the step never split anything (migration 0055 renamed the rows).
 */
export const FORMER_STAGE_NAMES: Readonly<Record<string, PacketStage>> = { sharded: 'regions_counted' };

export interface PacketRow {
  id: number;
  uuid: string;
  company_id: number;
  source_id: number | null;
  load_map_id: number | null;
  stage: PacketStage;
  dedupe_key: string;
  object_key: string;
  original_name: string | null;
  etag: string | null;
  size_bytes: number | null;
  checksum: string | null;
  rows_read: number;
  rows_loaded: number;
  rows_rejected: number;
  rows_duplicate: number;
  /** when the merge of the rows staged last committed (a new staging clears it) */
  merged_at: Date | null;
  rejects_key: string | null;
  workflow_id: string | null;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
  /** when the archive deleted its raw file, rejects report and rejected rows (packet retention) */
  files_purged_at: Date | null;
  /** free-form: merge results, the header read, warnings, what an operator accepted on release */
  metadata?: Record<string, unknown>;
}

export interface NewPacket {
  companyId: number;
  sourceId?: number | null;
  loadMapId?: number | null;
  /** source + key + etag (or content checksum): the same file seen twice is one packet */
  dedupeKey: string;
  objectKey: string;
  originalName?: string | null;
  etag?: string | null;
  sizeBytes?: number | null;
  checksum?: string | null;
  contentType?: string | null;
  metadata?: Record<string, unknown>;
}

/** Inserts the packet unless the same file is already one; `created` says which. */
export async function registerPacket(
  sql: Sql,
  p: NewPacket,
  actor: string,
): Promise<{ packet: PacketRow; created: boolean }> {
  return (await sql.begin(async (tx) => {
    const [inserted] = await tx<PacketRow[]>`
      insert into data_packets (company_id, source_id, load_map_id, dedupe_key, object_key, original_name,
                                etag, size_bytes, checksum, content_type, metadata)
      values (${p.companyId}, ${p.sourceId ?? null}, ${p.loadMapId ?? null}, ${p.dedupeKey}, ${p.objectKey},
              ${p.originalName ?? null}, ${p.etag ?? null}, ${p.sizeBytes ?? null}, ${p.checksum ?? null},
              ${p.contentType ?? null}, ${tx.json((p.metadata ?? {}) as never)})
      on conflict (company_id, dedupe_key) do nothing
      returning *`;
    if (inserted) {
      await recordPacketEvent(tx, inserted, 'received', 'packet registered', actor, {
        objectKey: p.objectKey,
        sizeBytes: p.sizeBytes ?? null,
      });
      return { packet: inserted, created: true };
    }
    const [existing] = await tx<PacketRow[]>`
      select * from data_packets where company_id = ${p.companyId} and dedupe_key = ${p.dedupeKey}`;
    return { packet: existing!, created: false };
  })) as { packet: PacketRow; created: boolean };
}

export async function recordPacketEvent(
  sql: Sql | TransactionSql,
  packet: Pick<PacketRow, 'id' | 'company_id'>,
  stage: PacketStage,
  event: string,
  actor: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  await sql`
    insert into packet_events (packet_id, company_id, stage, event, actor, details)
    values (${packet.id}, ${packet.company_id}, ${stage}, ${event}, ${actor}, ${sql.json(details as never)})`;
}

/** Moves a packet to a stage and logs it, in one transaction. */
export async function setPacketStage(
  sql: Sql,
  packetId: number,
  stage: PacketStage,
  actor: string,
  opts: { event?: string; error?: string | null; details?: Record<string, unknown> } = {},
): Promise<PacketRow> {
  return (await sql.begin(async (tx) => {
    const final = stage === 'done' || stage === 'failed' || stage === 'cancelled';
    const [packet] = await tx<PacketRow[]>`
      update data_packets
      set stage = ${stage},
          error = ${stage === 'failed' ? (opts.error ?? 'failed') : stage === 'held' ? (opts.error ?? 'held') : null},
          started_at = coalesce(started_at, now()),
          finished_at = ${final ? tx`now()` : null}
      where id = ${packetId}
      returning *`;
    if (!packet) throw new Error(`packet ${packetId} does not exist`);
    await recordPacketEvent(tx, packet, stage, opts.event ?? `stage ${stage}`, actor, {
      ...(opts.details ?? {}),
      ...(opts.error ? { error: opts.error } : {}),
    });
    return packet;
  })) as PacketRow;
}
