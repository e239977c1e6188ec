import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// type-aware linting loads the whole TypeScript project once: slow on a busy machine, not a hang
const LINT_TIMEOUT = 180_000;

// Lints a would-be workflow file in memory, as if it sat in workflows/, with the project's own config.
async function lintWorkflow(code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: process.cwd() });
  const [result] = await eslint.lintText(code, { filePath: 'workflows/check-company-readiness.ts' });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('workflow determinism lint rules', { timeout: LINT_TIMEOUT }, () => {
  it('forbid Node built-ins in workflow code', async () => {
    const problems = await lintWorkflow(
      `import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n`,
    );
    expect(problems.join('\n')).toContain('Workflow code cannot use Node built-ins.');
    const bare = await lintWorkflow(`import crypto from 'crypto';\nexport const x = crypto;\n`);
    expect(bare.join('\n')).toContain('Workflow code cannot use Node built-ins.');
  });

  it('forbid SDK clients and I/O libraries', async () => {
    const problems = await lintWorkflow(
      `import { S3Client } from '@aws-sdk/client-s3';\nimport postgres from 'postgres';\nimport { Client } from '@temporalio/client';\nexport const x = [S3Client, postgres, Client];\n`,
    );
    expect(problems.filter((p) => p.startsWith('no-restricted-imports'))).toHaveLength(3);
  });

  it('allow activity types but not activity values', async () => {
    expect(
      await lintWorkflow(`import type { Activities } from '../activities';\nexport type A = Activities;\n`),
    ).toEqual([]);
    const value = await lintWorkflow(
      `import { createActivities } from '../activities';\nexport const x = createActivities;\n`,
    );
    expect(value.join('\n')).toContain('Workflows may import activity types only');
  });

  it('allow only pure helpers from lib/', async () => {
    expect(await lintWorkflow(`import { SA } from '../lib/names';\nexport const x = SA;\n`)).toEqual([]);
    expect(
      await lintWorkflow(
        `import { HOLDING_PROBLEMS } from '../lib/workflow-helpers/held-packets';\nexport const x = HOLDING_PROBLEMS;\n`,
      ),
    ).toEqual([]);
    const io = await lintWorkflow(`import { createSql } from '../lib/db';\nexport const x = createSql;\n`);
    expect(io.join('\n')).toContain('Workflows may import only pure helpers');
  });

  it('make a floating promise an error', async () => {
    const problems = await lintWorkflow(
      `import { sleep } from '@temporalio/workflow';\nexport async function wf(): Promise<void> {\n  sleep(1000);\n}\n`,
    );
    expect(problems.join('\n')).toContain('@typescript-eslint/no-floating-promises');
  });
});
