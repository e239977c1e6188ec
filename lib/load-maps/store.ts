// A company's load maps in the database: each content change a new version, the newest one active.
import { isDeepStrictEqual } from 'node:util';
import type { Sql, TransactionSql } from '../db';
import type { LoadMap } from '../../schemas/load-map';

/** Second key of the per-company advisory lock taken while a version is recorded (merge uses 2). */
export const LOAD_MAP_VERSION_LOCK = 1;

export interface RecordedVersion {
  id: number;
  name: string;
  version: number;
  /** false when the newest version already had this content: nothing was recorded */
  changed: boolean;
}

/**
 * Records `map` as the newest version of the company's map of its name, active, the older ones kept
 * (inactive) for packets and replays that name them; the same content again records nothing.
 */
export async function recordLoadMapVersion(
  tx: TransactionSql,
  companyId: number,
  map: LoadMap,
): Promise<RecordedVersion> {
  await tx`select pg_advisory_xact_lock(${companyId}, ${LOAD_MAP_VERSION_LOCK})`;
  const [latest] = await tx<{ id: number; version: number; load_map: unknown; active: boolean }[]>`
    select id, version, load_map, active from company_load_maps
    where company_id = ${companyId} and name = ${map.name}
    order by version desc limit 1`;
  if (latest && latest.active && isDeepStrictEqual(latest.load_map, map))
    return { id: latest.id, name: map.name, version: latest.version, changed: false };
  const version = (latest?.version ?? 0) + 1;
  await tx`
    update company_load_maps set active = false
    where company_id = ${companyId} and name = ${map.name} and active`;
  const [row] = await tx<{ id: number }[]>`
    insert into company_load_maps (company_id, name, version, load_map, system_name, system_version)
    values (${companyId}, ${map.name}, ${version}, ${tx.json(map as never)},
            ${map.system?.name ?? null}, ${map.system?.version ?? null})
    returning id`;
  return { id: row!.id, name: map.name, version, changed: true };
}

export interface LoadMapVersionListing {
  name: string;
  version: number;
  active: boolean;
  fields: number;
  description: string | null;
  createdAt: Date;
  /** packets read (or to be read) through this version */
  packets: number;
  /** sources that name the map (`name`, following its active version, or `name@N`) */
  sources: string[];
}

export async function listLoadMapVersions(
  sql: Sql | TransactionSql,
  companyId: number,
  name?: string,
): Promise<LoadMapVersionListing[]> {
  const rows = await sql<(Omit<LoadMapVersionListing, 'sources'> & { sources: string[] | null })[]>`
    select m.name, m.version, m.active, m.created_at as "createdAt", m.load_map ->> 'description' as description,
           (select count(*)::int from jsonb_object_keys(coalesce(m.load_map -> 'fields', '{}'))) as fields,
           (select count(*)::int from data_packets p where p.company_id = m.company_id and p.load_map_id = m.id) as packets,
           (select array_agg(s.name order by s.name) from data_ingest_sources s
            where s.company_id = m.company_id
              and (s.load_map_name = m.name || '@' || m.version or (s.load_map_name = m.name and m.active))) as sources
    from company_load_maps m
    where m.company_id = ${companyId} ${name ? sql`and m.name = ${name}` : sql``}
    order by m.name, m.version desc`;
  return rows.map((r) => ({ ...r, sources: r.sources ?? [] }));
}
