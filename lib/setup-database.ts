// Brings a database to the current schema and reference data: migrations, then load-map files.
import type { Sql } from './db';
import { syncLoadMapFiles, type SyncedLoadMap } from './load-maps/files';
import { migrate, type MigrateResult } from './migrate';

export async function setUpDatabase(sql: Sql): Promise<MigrateResult & { loadMaps: SyncedLoadMap[] }> {
  const result = await migrate(sql);
  const loadMaps = await syncLoadMapFiles(sql);
  return { ...result, loadMaps };
}
