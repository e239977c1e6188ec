import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../lib/config';
import { createLogger } from '../lib/log';
import { readSavedHistories } from '../lib/replay/saved-histories';
import { installTemporalLogging } from '../workers/create-workers';

// the variant's determinism failures are expected; only errors are worth printing
installTemporalLogging(createLogger({ level: 'error', pretty: false }));

// the bundle the global set-up built from the current workflows/ (the same code workers load)
const currentBundle = () => ({ codePath: process.env.WORKFLOW_BUNDLE_PATH! });

describe('saved workflow histories replay against the current workflow code', () => {
  it('every history under test/histories replays without a determinism error', async () => {
    const histories = await readSavedHistories();
    const types = new Set(histories.map((h) => h.workflowType));
    expect([...types].sort()).toEqual(
      expect.arrayContaining(['archiveMessages', 'checkCompanyReadiness', 'deliverWebhook', 'ingestPacket']),
    );
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: currentBundle() }, histories)) {
      replayed += 1;
      if (result.error) {
        const file = histories.find((h) => h.workflowId === result.workflowId)?.file;
        failures.push(`${file}: ${result.error.name}: ${result.error.message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(histories.length);
  });

  it('catches a workflow changed in a non-deterministic way (an added timer before the first activity)', async () => {
    // a copy of the readiness workflow with one step added, bundled on its own like a new release would be
    const dir = path.join(PROJECT_ROOT, 'test-output', 'replay-variant');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const original = await readFile(
      path.join(PROJECT_ROOT, 'workflows', 'check-company-readiness.ts'),
      'utf8',
    );
    const changed = original
      .replace(
        "import { defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';",
        "import { defineQuery, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';",
      )
      .replace(
        '  const report = await inspectCompany(',
        "  await sleep('1 second');\n  const report = await inspectCompany(",
      );
    expect(changed).toContain("await sleep('1 second')");
    await writeFile(path.join(dir, 'check-company-readiness.ts'), changed);
    await writeFile(
      path.join(dir, 'index.ts'),
      "export { checkCompanyReadiness } from './check-company-readiness';\n",
    );
    const variant = await bundleWorkflowCode({ workflowsPath: path.join(dir, 'index.ts'), logger: silent });

    const histories = (await readSavedHistories()).filter((h) => h.workflowType === 'checkCompanyReadiness');
    expect(histories.length).toBeGreaterThan(0);
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: variant }, histories))
      results.push(result);
    expect(results).toHaveLength(histories.length);
    for (const result of results) {
      expect(result.error).toBeInstanceOf(DeterminismViolationError);
    }
  });
});

const ignore = () => {};
const silent = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore, log: ignore };
