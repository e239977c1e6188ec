// The saved workflow histories under test/histories/: where they live, how they are written and how they are read for replay.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { PROJECT_ROOT } from '../config';

export const SAVED_HISTORIES_DIR = path.join(PROJECT_ROOT, 'test', 'histories');

type History = ReturnType<typeof historyFromJSON>;

/** test/histories/<workflowType>/<label>.json, in the JSON form the Temporal CLI and UI download. */
export function savedHistoryPath(workflowType: string, label: string): string {
  return path.join(SAVED_HISTORIES_DIR, workflowType, `${label}.json`);
}

/** what Worker.runReplayHistories takes, plus where it came from */
export interface SavedHistory {
  workflowId: string;
  history: History;
  workflowType: string;
  file: string;
}

/**
 * A history as the CLI and UI download it, with the workflow id it ran under beside its events: a
 * history holds no workflow id, and a workflow that names its children from its own (reminderRun)
 * replays only under that id, as the replayer checks each child's id against the history's.
 */
export function savedHistoryJSON(workflowId: string, history: History): string {
  return JSON.stringify({ workflowId, ...(JSON.parse(historyToJSON(history)) as object) }, null, 2) + '\n';
}

export async function readSavedHistories(dir = SAVED_HISTORIES_DIR): Promise<SavedHistory[]> {
  const saved: SavedHistory[] = [];
  for (const type of (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()) {
    for (const file of (await readdir(path.join(dir, type))).filter((f) => f.endsWith('.json')).sort()) {
      const full = path.join(dir, type, file);
      const { workflowId, ...events } = JSON.parse(await readFile(full, 'utf8')) as { workflowId?: unknown };
      saved.push({
        workflowType: type,
        file: path.relative(PROJECT_ROOT, full),
        // a downloaded history has none: any id does for a workflow that does not read its own
        workflowId: typeof workflowId === 'string' ? workflowId : `${type}/${file}`,
        history: historyFromJSON(events),
      });
    }
  }
  return saved;
}
