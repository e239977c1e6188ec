// The saved workflow histories under test/histories/: where they live and how they are read for replay.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { PROJECT_ROOT } from '../config';

export const SAVED_HISTORIES_DIR = path.join(PROJECT_ROOT, 'test', 'histories');

/** test/histories/<workflowType>/<label>.json, in the JSON form the Temporal CLI and UI download. */
export function savedHistoryPath(workflowType: string, label: string): string {
  return path.join(SAVED_HISTORIES_DIR, workflowType, `${label}.json`);
}

/** what Worker.runReplayHistories takes, plus where it came from */
export interface SavedHistory {
  workflowId: string;
  history: ReturnType<typeof historyFromJSON>;
  workflowType: string;
  file: string;
}

export async function readSavedHistories(dir = SAVED_HISTORIES_DIR): Promise<SavedHistory[]> {
  const saved: SavedHistory[] = [];
  for (const type of (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()) {
    for (const file of (await readdir(path.join(dir, type))).filter((f) => f.endsWith('.json')).sort()) {
      const full = path.join(dir, type, file);
      const history = historyFromJSON(JSON.parse(await readFile(full, 'utf8')));
      saved.push({
        workflowType: type,
        file: path.relative(PROJECT_ROOT, full),
        workflowId: `${type}/${file}`,
        history,
      });
    }
  }
  return saved;
}
