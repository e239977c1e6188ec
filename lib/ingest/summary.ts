// A packet's summary as operators read it: file, stage, counts, regions, rejects report, error.
import type { Sql } from '../db';
import type { PacketStage } from '../packets';
import type { RegionCount } from './merge';

export interface PacketSummary {
  packetId: string;
  companyAlias: string;
  fileName: string;
  loadMap: string | null;
  stage: PacketStage;
  rowsRead: number;
  rowsLoaded: number;
  rowsRejected: number;
  rowsDuplicate: number;
  regions: RegionCount[];
  rejectsKey: string | null;
  workflowId: string | null;
  error: string | null;
}

export async function readPacketSummary(sql: Sql, packetUuid: string): Promise<PacketSummary | undefined> {
  const [row] = await sql<
    {
      uuid: string;
      alias: string;
      original_name: string | null;
      object_key: string;
      map_name: string | null;
      map_version: number | null;
      stage: PacketStage;
      rows_read: number;
      rows_loaded: number;
      rows_rejected: number;
      rows_duplicate: number;
      metadata: { merge?: { regions?: RegionCount[] } };
      rejects_key: string | null;
      workflow_id: string | null;
      error: string | null;
    }[]
  >`
    select p.uuid, c.alias, p.original_name, p.object_key, m.name as map_name, m.version as map_version, p.stage,
           p.rows_read, p.rows_loaded, p.rows_rejected, p.rows_duplicate, p.metadata,
           p.rejects_key, p.workflow_id, p.error
    from data_packets p join companies c on c.id = p.company_id
    left join company_load_maps m on m.id = p.load_map_id and m.company_id = p.company_id
    where p.uuid = ${packetUuid}`;
  if (!row) return undefined;
  return {
    packetId: row.uuid,
    companyAlias: row.alias,
    fileName: row.original_name ?? row.object_key.split('/').pop()!,
    loadMap: row.map_name ? `${row.map_name} v${row.map_version}` : null,
    stage: row.stage,
    rowsRead: row.rows_read,
    rowsLoaded: row.rows_loaded,
    rowsRejected: row.rows_rejected,
    rowsDuplicate: row.rows_duplicate,
    regions: row.metadata.merge?.regions ?? [],
    rejectsKey: row.rejects_key,
    workflowId: row.workflow_id,
    error: row.error,
  };
}

/** The summary as a few aligned lines for a terminal. */
export function formatPacketSummary(s: PacketSummary, bucket?: string): string[] {
  const lines = [
    `Packet ${s.packetId}  ${s.fileName}  (${s.companyAlias}, load map ${s.loadMap ?? 'none'})`,
    `  stage       ${s.stage}${s.error ? `: ${s.error}` : ''}`,
    `  rows        read ${s.rowsRead}, loaded ${s.rowsLoaded}, rejected ${s.rowsRejected}, duplicates ${s.rowsDuplicate}`,
  ];
  if (s.regions.length > 0) {
    const byRegion = new Map<string, number>();
    for (const r of s.regions) byRegion.set(r.region, (byRegion.get(r.region) ?? 0) + r.contacts);
    lines.push(`  regions     ${[...byRegion].map(([region, n]) => `${region} ${n}`).join(', ')}`);
  }
  if (s.rejectsKey) lines.push(`  rejects     ${bucket ? `s3://${bucket}/` : ''}${s.rejectsKey}`);
  return lines;
}
