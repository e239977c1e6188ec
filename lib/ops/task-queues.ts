// A task queue as Temporal sees it: how many workers poll it (for workflow or activity tasks) and its backlog.
import type { Client } from '@temporalio/client';

export interface TaskQueueState {
  name: string;
  pollers: number;
  backlog: number;
}

export async function describeTaskQueue(
  client: Client,
  namespace: string,
  name: string,
): Promise<TaskQueueState> {
  // 1 = TASK_QUEUE_TYPE_WORKFLOW, 2 = TASK_QUEUE_TYPE_ACTIVITY: a queue's workers poll one or both
  const described = await Promise.all(
    [1, 2].map((taskQueueType) =>
      client.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name, kind: 1 },
        taskQueueType,
        reportStats: true,
      }),
    ),
  );
  const pollers = new Set(described.flatMap((d) => (d.pollers ?? []).map((p) => p.identity ?? '')));
  const backlog = described.reduce((n, d) => n + Number(d.stats?.approximateBacklogCount ?? 0), 0);
  return { name, pollers: pollers.size, backlog };
}
