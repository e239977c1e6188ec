// `herald upload FILE --company ALIAS`: puts a local file in S3, makes it a packet, starts its ingest and shows the result.
import { WorkflowFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import type { App } from '../../lib/app';
import { startPacketIngest } from '../../lib/ingest/start-ingest';
import { formatPacketSummary, readPacketSummary, type PacketSummary } from '../../lib/ingest/summary';
import { SourceError } from '../../lib/sources/errors';
import { uploadFile } from '../../lib/sources/upload-file';
import { workflowUiUrl } from '../../lib/temporal';
import { TASK_QUEUES } from '../../lib/names';
import { EXIT, print, UsageError, withApp } from '../cli-kit';
import { parseTimeout, waitForWorkflow } from '../wait-for-workflow';
import { formatBytes, progressBar } from '../progress-bar';

interface UploadOptions {
  company: string;
  loadMap?: string;
  wait: boolean;
  timeout?: string;
  json?: boolean;
}

const FINAL_STAGES = new Set(['done', 'failed', 'cancelled']);
/** stages of a packet whose file did not load: `packets replay` (or `release`, when held) reads it again */
const REPLAYABLE = new Set(['failed', 'cancelled', 'held']);

/** Waits for the packet's ingest workflow; a failed ingest is reported through the packet, not thrown. */
async function waitForIngest(
  app: App,
  workflowId: string,
  timeoutSeconds: number | undefined,
): Promise<void> {
  const client = await app.client();
  await waitForWorkflow({
    client,
    namespace: app.temporal.namespace,
    handle: client.workflow.getHandle(workflowId),
    what: 'the ingest',
    taskQueues: () => [TASK_QUEUES.pipeline],
    timeoutSeconds,
  }).catch((err: unknown) => {
    if (!(err instanceof WorkflowFailedError)) throw err;
  });
}

async function upload(app: App, file: string, opts: UploadOptions): Promise<number> {
  const timeoutSeconds = parseTimeout(opts.timeout);
  const bar = progressBar('uploading');
  const client = await app.client();
  let outcome;
  try {
    outcome = await uploadFile(
      {
        sql: app.sql,
        s3: app.s3,
        bucket: app.bucket,
        startIngest: async (packet, companyAlias) => ({
          workflowId: (await startPacketIngest(client, { packet, companyAlias })).workflowId,
        }),
      },
      {
        file,
        companyAlias: opts.company,
        loadMap: opts.loadMap,
        actor: app.config.actor,
        onProgress: (sent, total) => bar.update(sent, total),
      },
    );
  } catch (err) {
    // a wrong file, company or map is the command line's fault: exit code 2, as for a bad flag
    if (err instanceof SourceError && ['NoSuchFile', 'UnknownCompany', 'NoLoadMap'].includes(err.type))
      throw new UsageError(err.message);
    throw err;
  } finally {
    bar.finish();
  }
  // the same bytes again are the same packet: one that did not load is read again by replaying it
  const replay =
    outcome.alreadyReceived && REPLAYABLE.has(outcome.stage)
      ? `herald packets ${outcome.stage === 'held' ? 'release' : 'replay'} ${outcome.packetUuid}${opts.loadMap ? ` --load-map ${opts.loadMap}` : ''}`
      : null;
  if (!opts.json) {
    process.stderr.write(
      outcome.alreadyReceived
        ? `${file} was already received as packet ${outcome.packetUuid}; nothing was uploaded\n` +
            (replay
              ? `that packet ${outcome.stage === 'failed' ? 'failed' : `is ${outcome.stage}`}; this is the same file, so to read it again (after fixing the load map, or with another) run:\n  ${replay}\n`
              : '')
        : `uploaded ${formatBytes(outcome.sizeBytes)} to s3://${app.bucket}/${outcome.objectKey}\n`,
    );
  }
  const workflowId = outcome.ingestWorkflowId;
  if (opts.wait && workflowId && !(outcome.alreadyReceived && FINAL_STAGES.has(outcome.stage))) {
    if (!opts.json) process.stderr.write('ingesting (Ctrl-C stops waiting; the ingest goes on)...\n');
    await waitForIngest(app, workflowId, timeoutSeconds);
  }
  const summary = (await readPacketSummary(app.sql, outcome.packetUuid)) as PacketSummary;
  const link = workflowId ? workflowUiUrl(app.temporal, workflowId) : undefined;
  const result = {
    ...summary,
    alreadyReceived: outcome.alreadyReceived,
    replay,
    objectKey: outcome.objectKey,
    sha256: outcome.sha256,
    rejectsUrl: summary.rejectsKey ? `s3://${app.bucket}/${summary.rejectsKey}` : null,
    workflowUrl: link ?? null,
  };
  print(!!opts.json, result, () => [
    ...formatPacketSummary(summary, app.bucket),
    ...(link ? [`  workflow    ${link}`] : []),
    ...(opts.wait ? [] : ['  (not waiting: the ingest runs on; follow it in the Web UI)']),
  ]);
  return summary.stage === 'failed' ? EXIT.failed : EXIT.ok;
}

export function registerUploadCommand(program: Command): void {
  program
    .command('upload')
    .description(
      'upload a file for a company and ingest it now (needs a running worker: npm start or npm run worker)',
    )
    .argument('<file>', 'a CSV, XLSX, JSON or NDJSON file')
    .requiredOption('--company <alias>', 'the company the file belongs to')
    .option(
      '--load-map <name>',
      "the company's load map to read it with (default: the company's only active map)",
    )
    .option('--no-wait', 'return once the ingest has started, without waiting for its result')
    .option('--timeout <seconds>', 'stop waiting after this long (exit 1; the ingest goes on)')
    .option('--json', 'print the packet summary as JSON')
    .action((file: string, opts: UploadOptions) => withApp({}, (app) => upload(app, file, opts)));
}
