// Turns a file now in herald's bucket into a packet (once per file) and starts its ingest; shared by every source and upload.
import type { Sql } from '../db';
import { LoadMapNotFound, resolveLoadMapRef } from '../load-maps/refs';
import { registerPacket, type NewPacket, type PacketRow } from '../packets';
import { SourceError } from './errors';

/** Starts the ingest workflow of a packet (lib/ingest/start-ingest, bound to a client and task queue). */
export type StartIngest = (packet: PacketRow, companyAlias: string) => Promise<{ workflowId: string }>;

export interface AdmitResult {
  packetUuid: string;
  packetId: number;
  /** false when the same file was already a packet: nothing new was started */
  created: boolean;
  stage: PacketRow['stage'];
  ingestWorkflowId: string | null;
}

/**
 * The load map a packet that names its map (an upload with --load-map) is read with: `name` is the
 * newest active version, `name@N` that version. Packets that name none take their source's map, or
 * the company's only one, when their ingest starts (lib/ingest/packet-context).
 */
export async function loadMapIdOf(
  sql: Sql,
  companyId: number,
  companyAlias: string,
  ref: string,
): Promise<number> {
  try {
    return (await resolveLoadMapRef(sql, companyId, companyAlias, ref)).id;
  } catch (err) {
    if (err instanceof LoadMapNotFound) throw new SourceError('NoLoadMap', err.message, true);
    throw err;
  }
}

/** Keys among `dedupeKeys` that are already packets of the company: listings skip them before copying anything. */
export async function knownDedupeKeys(
  sql: Sql,
  companyId: number,
  dedupeKeys: readonly string[],
): Promise<Set<string>> {
  if (dedupeKeys.length === 0) return new Set();
  const rows = await sql<{ dedupe_key: string }[]>`
    select dedupe_key from data_packets where company_id = ${companyId} and dedupe_key = any(${dedupeKeys as string[]})`;
  return new Set(rows.map((r) => r.dedupe_key));
}

/**
 * Registers the packet and starts its ingest. A packet seen again is left alone, unless it never got
 * past `received` with no workflow (a crash between the two steps): then its ingest is started now,
 * which the ingest workflow's id (derived from the packet) makes safe to repeat.
 */
export async function admitPacket(
  sql: Sql,
  input: NewPacket & { companyAlias: string },
  actor: string,
  startIngest: StartIngest,
): Promise<AdmitResult> {
  const { companyAlias, ...packet } = input;
  const { packet: row, created } = await registerPacket(sql, packet, actor);
  let workflowId = row.workflow_id;
  if (created || (row.stage === 'received' && !row.workflow_id)) {
    workflowId = (await startIngest(row, companyAlias)).workflowId;
  }
  return { packetUuid: row.uuid, packetId: row.id, created, stage: row.stage, ingestWorkflowId: workflowId };
}
