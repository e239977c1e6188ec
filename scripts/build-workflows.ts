// Writes the prebuilt workflow bundle production workers load (WORKFLOW_BUNDLE_PATH=dist/workflow-bundle.js).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../lib/config';
import { buildWorkflowBundle } from '../workers/workflow-bundle';

const out = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');
await mkdir(path.dirname(out), { recursive: true });
const { code } = await buildWorkflowBundle();
await writeFile(out, code);
console.log(
  `wrote ${path.relative(process.cwd(), out)} (${(Buffer.byteLength(code) / 1024).toFixed(0)} KiB)`,
);
