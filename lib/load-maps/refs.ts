// Load-map references as operators write them (`name`, `name@3`), resolved to a stored version of a company's map.
import type { Sql, TransactionSql } from '../db';

export interface LoadMapRef {
  name: string;
  /** undefined: the newest active version, whenever the reference is used */
  version?: number;
}

const REF = /^([a-z0-9][a-z0-9_-]{0,62})(?:@v?(\d+))?$/;

export function parseLoadMapRef(text: string): LoadMapRef | undefined {
  const match = REF.exec(text.trim());
  if (!match) return undefined;
  return { name: match[1]!, ...(match[2] ? { version: Number(match[2]) } : {}) };
}

export function formatLoadMapRef(ref: LoadMapRef): string {
  return ref.version === undefined ? ref.name : `${ref.name}@${ref.version}`;
}

/** A reference that names no stored map of the company: the message lists what it has. */
export class LoadMapNotFound extends Error {
  override readonly name = 'LoadMapNotFound';
}

export interface StoredLoadMap {
  id: number;
  name: string;
  version: number;
  active: boolean;
  loadMap: unknown;
  createdAt: Date;
}

/**
 * `name` is the newest active version of the map (so a source that names it follows new versions);
 * `name@N` is version N exactly, active or not (so a replay or a source can pin one).
 */
export async function resolveLoadMapRef(
  sql: Sql | TransactionSql,
  companyId: number,
  companyAlias: string,
  text: string,
): Promise<StoredLoadMap> {
  const ref = parseLoadMapRef(text);
  if (!ref)
    throw new LoadMapNotFound(
      `"${text}" is not a load map reference: write the map's name, or name@version (e.g. ehr-appointments@2)`,
    );
  const [found] = await sql<StoredLoadMap[]>`
    select id, name, version, active, load_map as "loadMap", created_at as "createdAt" from company_load_maps
    where company_id = ${companyId} and name = ${ref.name}
      and ${ref.version === undefined ? sql`active` : sql`version = ${ref.version}`}
    order by version desc limit 1`;
  if (found) return found;
  const maps = await sql<{ name: string; versions: number[]; active: number | null }[]>`
    select name, array_agg(version order by version) as versions, max(version) filter (where active) as active
    from company_load_maps where company_id = ${companyId} group by name order by name`;
  const known = maps.map(
    (m) =>
      `${m.name} (versions ${m.versions.join(', ')}${m.active ? `; active ${m.active}` : '; none active'})`,
  );
  const named = maps.find((m) => m.name === ref.name);
  throw new LoadMapNotFound(
    named
      ? `company ${companyAlias} has no ${ref.version === undefined ? 'active version' : `version ${ref.version}`} of load map "${ref.name}" (it has: ${known.join('; ')})`
      : `company ${companyAlias} has no load map "${ref.name}" (it has: ${known.join('; ') || 'none'})`,
  );
}
