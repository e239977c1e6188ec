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
      expect.arrayContaining([
        'archiveMessages',
        'checkCompanyReadiness',
        'deliverWebhook',
        'ingestPacket',
        'reminderRegion',
        'reminderRun',
      ]),
    );
    const failures: string[] = [];
    let replayed = 0;
    // one history at a time, in order (continue-as-new runs share a workflow id)
    for await (const result of Worker.runReplayHistories({ workflowBundle: currentBundle() }, histories)) {
      const { file } = histories[replayed]!;
      replayed += 1;
      if (result.error) failures.push(`${file}: ${result.error.name}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(histories.length);
  });

  it('catches a workflow changed in a non-deterministic way (an added timer before the first activity)', async () => {
    const variant = await bundleVariant('check-company-readiness.ts', 'checkCompanyReadiness', (original) =>
      original
        .replace(
          "import { defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';",
          "import { defineQuery, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';",
        )
        .replace(
          '  const report = await inspectCompany(',
          "  await sleep('1 second');\n  const report = await inspectCompany(",
        ),
    );
    await expectEveryReplayToFail(variant, 'checkCompanyReadiness');
  });

  it("catches a reminder run whose commands come in another order (the rest of its first page screened before the opening's batches)", async () => {
    // the run names its region children from its own id: its history replays under the id it ran with
    const runs = (await readSavedHistories()).filter((h) => h.workflowType === 'reminderRun');
    expect(runs.length).toBeGreaterThan(0);
    for (const { history } of runs) {
      expect(history.events?.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(true);
    }
    const variant = await bundleVariant('reminder-run.ts', 'reminderRun', (original) =>
      original
        .replace(
          '    await sendPage(page);\n    if (page.next && limit > opening) {',
          '    if (page.next && limit > opening) {',
        )
        .replace('      await sendPage(rest);', '      await sendPage(page);\n      await sendPage(rest);'),
    );
    await expectEveryReplayToFail(variant, 'reminderRun');
  });
});

/**
 * A copy of a workflow file with `change` made, bundled on its own as a new release would be (its
 * imports point at the real modules).
 */
async function bundleVariant(file: string, exported: string, change: (original: string) => string) {
  const dir = path.join(PROJECT_ROOT, 'test-output', 'replay-variant', exported);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const original = await readFile(path.join(PROJECT_ROOT, 'workflows', file), 'utf8');
  const changed = change(original);
  expect(changed).not.toBe(original);
  await writeFile(
    path.join(dir, file),
    changed
      .replaceAll("from '../", `from '${PROJECT_ROOT}/`)
      .replaceAll("from './", `from '${PROJECT_ROOT}/workflows/`),
  );
  await writeFile(
    path.join(dir, 'index.ts'),
    `export { ${exported} } from './${file.replace(/\.ts$/, '')}';\n`,
  );
  return bundleWorkflowCode({ workflowsPath: path.join(dir, 'index.ts'), logger: silent });
}

async function expectEveryReplayToFail(variant: { code: string }, workflowType: string) {
  const histories = (await readSavedHistories()).filter((h) => h.workflowType === workflowType);
  expect(histories.length).toBeGreaterThan(0);
  const results = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: variant }, histories))
    results.push(result);
  expect(results).toHaveLength(histories.length);
  for (const result of results) {
    expect(result.error).toBeInstanceOf(DeterminismViolationError);
  }
}

const ignore = () => {};
const silent = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore, log: ignore };
