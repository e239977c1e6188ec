// Exports the event histories of finished workflows to S3 as JSON, each run once, for replay tests and audits.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Sql } from '../db';

export function historyObjectKey(workflowType: string, workflowId: string, runId: string): string {
  return `histories/${workflowType}/${workflowId}/${runId}.json`;
}

export interface HistoryExportInput {
  /** only runs closed after this instant; unset = since the last export (an hour's overlap), or all */
  closedAfter?: string;
  /** only these workflow types; unset = every type */
  workflowTypes?: string[];
  /** at most this many runs per call; the next night takes the rest */
  limit: number;
}

export interface HistoryExportResult {
  exported: number;
  skipped: number;
  events: number;
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export async function exportClosedHistories(
  deps: { client: Client; sql: Sql; s3: S3Client; bucket: string },
  input: HistoryExportInput,
  progress: (done: number) => void = () => {},
): Promise<HistoryExportResult> {
  const { client, sql, s3, bucket } = deps;
  let after = input.closedAfter;
  if (!after) {
    const [mark] = await sql<{ at: Date | null }[]>`
      select max(closed_at) - interval '1 hour' as at from workflow_history_exports`;
    after = mark?.at?.toISOString();
  }
  const clauses = ["ExecutionStatus != 'Running'"];
  if (after) clauses.push(`CloseTime > ${quote(after)}`);
  if (input.workflowTypes?.length)
    clauses.push(`WorkflowType IN (${input.workflowTypes.map(quote).join(', ')})`);

  const result: HistoryExportResult = { exported: 0, skipped: 0, events: 0 };
  for await (const run of client.workflow.list({ query: clauses.join(' AND ') })) {
    if (result.exported >= input.limit) break;
    const [done] = await sql`
      select 1 from workflow_history_exports where workflow_id = ${run.workflowId} and run_id = ${run.runId}`;
    if (done) {
      result.skipped += 1;
      continue;
    }
    const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const key = historyObjectKey(run.type, run.workflowId, run.runId);
    const events = history.events?.length ?? 0;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: historyToJSON(history),
        ContentType: 'application/json',
      }),
    );
    await sql`
      insert into workflow_history_exports (workflow_id, run_id, workflow_type, object_key, events, closed_at)
      values (${run.workflowId}, ${run.runId}, ${run.type}, ${key}, ${events}, ${run.closeTime ?? null})
      on conflict do nothing`;
    result.exported += 1;
    result.events += events;
    progress(result.exported);
  }
  return result;
}
