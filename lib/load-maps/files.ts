// Reads load-map files and text, checks them whole (JSON, repeated keys, schema, rules), and records file maps as versions.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import type { Sql } from '../db';
import { loadMapSchema, type LoadMap } from '../../schemas/load-map';
import { compileLoadMap, InvalidLoadMap } from './compile';
import { describeDuplicateKeys, findDuplicateKeys } from './json-keys';
import { recordLoadMapVersion } from './store';

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

/**
 * Every problem of a load map's text: JSON syntax, keys written twice (JSON keeps the last silently),
 * the schema's issues with their paths, then cleaning rules, their options and columns read twice.
 */
export function loadMapProblems(text: string): { map?: LoadMap; problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { problems: [`not valid JSON: ${(err as Error).message}`] };
  }
  const duplicates = describeDuplicateKeys(findDuplicateKeys(text));
  const parsed = loadMapSchema.safeParse(json);
  if (!parsed.success) {
    return {
      problems: [
        ...duplicates,
        ...parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top)'}: ${i.message}`),
      ],
    };
  }
  try {
    compileLoadMap(parsed.data, parsed.data.name);
    return { map: parsed.data, problems: duplicates };
  } catch (err) {
    if (!(err instanceof InvalidLoadMap)) throw err;
    return { map: parsed.data, problems: [...duplicates, ...err.problems] };
  }
}

export function parseLoadMap(text: string, file: string): LoadMap {
  const { map, problems } = loadMapProblems(text);
  if (problems.length > 0 || !map) throw new LoadMapError(file, problems.join('; '));
  return map;
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
    const recorded = await sql.begin((tx) => recordLoadMapVersion(tx, company.id, map));
    synced.push({
      file: shown,
      company: map.company,
      name: map.name,
      version: recorded.version,
      changed: recorded.changed,
    });
  }
  return synced;
}
