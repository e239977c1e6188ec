// Starts one embedded runtime (real Postgres, Temporal dev server, local S3) for the whole integration run,
// or uses the servers the environment names; bundles the workflow code once for every test worker.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../lib/config';
import { createSql } from '../lib/db';
import { createLogger } from '../lib/log';
import { startRuntime, type Runtime } from '../lib/runtime';
import { setUpDatabase } from '../lib/setup-database';
import { buildWorkflowBundle } from '../workers/workflow-bundle';

let runtime: Runtime | undefined;

export async function setup(_project: TestProject): Promise<void> {
  const log = createLogger({ level: 'warn', pretty: false });
  const config = loadConfig();
  runtime = await startRuntime(config, {
    log,
    ephemeral: true,
    // throwaway data: durability traded for speed
    fastPostgres: true,
    notice: (m) => process.stderr.write(m + '\n'),
  });
  const sql = createSql({ url: runtime.databaseUrl, actor: 'test-setup' });
  try {
    await setUpDatabase(sql);
  } finally {
    await sql.end();
  }
  const bundleDir = await mkdtemp(path.join(os.tmpdir(), 'herald-bundle-'));
  const bundlePath = path.join(bundleDir, 'workflow-bundle.js');
  await writeFile(bundlePath, (await buildWorkflowBundle()).code);

  // test files (and the processes they spawn) find the servers through the ordinary variables
  Object.assign(process.env, {
    DATABASE_URL: runtime.databaseUrl,
    TEMPORAL_ADDRESS: runtime.temporal.address,
    TEMPORAL_NAMESPACE: runtime.temporal.namespace,
    TEMPORAL_UI_URL: runtime.temporal.uiUrl ?? '',
    S3_ENDPOINT: runtime.s3.endpoint ?? '',
    S3_BUCKET: runtime.s3.bucket,
    S3_ACCESS_KEY_ID: runtime.s3.accessKeyId ?? '',
    S3_SECRET_ACCESS_KEY: runtime.s3.secretAccessKey ?? '',
    WORKFLOW_BUNDLE_PATH: bundlePath,
    HERALD_ACTOR: 'test',
    LOG_LEVEL: 'warn',
    // worker and ingress processes of one run share this machine: each its own operations port
    OPS_PORT: '0',
  });
}

export async function teardown(): Promise<void> {
  await runtime?.stop();
}
