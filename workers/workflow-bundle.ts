// Chooses the workflow code a worker runs: a prebuilt bundle in production, a fresh bundle in development.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { PROJECT_ROOT } from '../lib/config';

export const WORKFLOWS_ENTRY = path.join(PROJECT_ROOT, 'workflows', 'index.ts');

export async function buildWorkflowBundle(): Promise<{ code: string }> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_ENTRY, logger: quietBundlerLogger });
}

export async function workflowBundle(prebuiltPath: string | undefined): Promise<WorkflowBundleOption> {
  if (prebuiltPath) {
    if (!existsSync(prebuiltPath)) {
      throw new Error(
        `WORKFLOW_BUNDLE_PATH is ${prebuiltPath}, which does not exist; run npm run build:workflows`,
      );
    }
    return { codePath: prebuiltPath };
  }
  return buildWorkflowBundle();
}

const ignore = () => {};
const quietBundlerLogger = {
  trace: ignore,
  debug: ignore,
  info: ignore,
  warn: (message: string, meta?: unknown) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
  log: ignore,
};
