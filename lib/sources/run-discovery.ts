// Starts a source's discovery now, outside its schedule, or joins the one already running.
import {
  WorkflowIdConflictPolicy,
  type Client,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { SA, TASK_QUEUES, WORKFLOW_IDS } from '../names';
import type { discoverSource } from '../../workflows/discover-source';
import type { StoredSource } from './store';

/**
 * A manual run uses the source's own workflow id, so running it twice while it runs joins the first
 * (USE_EXISTING) instead of listing the same files twice; scheduled runs get ids of their own, and
 * a file both find is still one packet.
 */
export async function startDiscovery(
  client: Client,
  source: Pick<StoredSource, 'uuid' | 'companyAlias' | 'name' | 'kind'>,
  opts: { taskQueue?: string } = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof discoverSource>> {
  return client.workflow.start<typeof discoverSource>('discoverSource', {
    taskQueue: opts.taskQueue ?? TASK_QUEUES.pipeline,
    workflowId: WORKFLOW_IDS.discoverSource(source.uuid),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [{ sourceUuid: source.uuid }],
    typedSearchAttributes: [{ key: SA.CompanyAlias, value: source.companyAlias }],
    staticSummary: `Discover new files of ${source.companyAlias}/${source.name} (${source.kind}), run by hand`,
  });
}
