// Turns a file now in herald's bucket into a packet (once per file) and starts its ingest; shared by every source and upload.
import type { Sql } from '../db';
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
 * The newest active version of the company's load map `name`, for a packet that names its map (an
 * upload with --load-map). Packets that name none take their source's map, or the company's only
 * one, when their ingest starts (lib/ingest/packet-context).
 */
export async function activeLoadMapId(
  sql: Sql,
  companyId: number,
  companyAlias: string,
  name: string,
): Promise<number> {
  const maps = await sql<{ id: number; name: string }[]>`
    select distinct on (name) id, name from company_load_maps
    where company_id = ${companyId} and active order by name, version desc`;
  const chosen = maps.find((m) => m.name === name);
  if (chosen) return chosen.id;
  throw new SourceError(
    'NoLoadMap',
    `company ${companyAlias} has no active load map "${name}" (it has: ${maps.map((m) => m.name).join(', ') || 'none'})`,
    true,
  );
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
