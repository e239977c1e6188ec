// Reads load-map files, validates them, and keeps their versioned rows in the database in step.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PROJECT_ROOT } from './config';
import type { Sql } from './db';
import { formatZodIssues, loadMapSchema, type LoadMap } from '../schemas/load-map';

export const LOADMAPS_DIR = path.join(PROJECT_ROOT, 'loadmaps');

export class LoadMapError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'LoadMapError';
  }
}

export function parseLoadMap(text: string, file: string): LoadMap {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new LoadMapError(file, `is not valid JSON (${(err as Error).message})`);
  }
  const parsed = loadMapSchema.safeParse(json);
  if (!parsed.success) throw new LoadMapError(file, formatZodIssues(parsed.error));
  return parsed.data;
}

export async function readLoadMapFile(file: string): Promise<LoadMap> {
  return parseLoadMap(await readFile(file, 'utf8'), path.relative(PROJECT_ROOT, file) || file);
}

export interface SyncedLoadMap {
  file: string;
  company: string;
  name: string;
  version: number;
  changed: boolean;
}

/** Each file naming a company becomes that company's newest version of the map when its content changed. */
export async function syncLoadMapFiles(sql: Sql, dir = LOADMAPS_DIR): Promise<SyncedLoadMap[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const synced: SyncedLoadMap[] = [];
  for (const name of files) {
    const file = path.join(dir, name);
    const map = await readLoadMapFile(file);
    if (!map.company) continue;
    const shown = path.relative(PROJECT_ROOT, file);
    const [company] = await sql<{ id: number }[]>`select id from companies where alias = ${map.company}`;
    if (!company) throw new LoadMapError(shown, `names company "${map.company}", which does not exist`);
    const result = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${company.id}, 1)`;
      const [latest] = await tx<{ version: number; load_map: unknown }[]>`
        select version, load_map from company_load_maps
        where company_id = ${company.id} and name = ${map.name}
        order by version desc limit 1`;
      if (latest && isDeepStrictEqual(latest.load_map, map))
        return { version: latest.version, changed: false };
      const version = (latest?.version ?? 0) + 1;
      await tx`update company_load_maps set active = false where company_id = ${company.id} and name = ${map.name}`;
      await tx`
        insert into company_load_maps (company_id, name, version, load_map, system_name, system_version)
        values (${company.id}, ${map.name}, ${version}, ${tx.json(map as never)},
                ${map.system?.name ?? null}, ${map.system?.version ?? null})`;
      return { version, changed: true };
    });
    synced.push({ file: shown, company: map.company, name: map.name, ...result });
  }
  return synced;
}
