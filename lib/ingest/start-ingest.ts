// Starts a packet's ingest workflow, once: the id comes from the packet, so a second start finds the first run.
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { SA, TASK_QUEUES, WORKFLOW_IDS } from '../names';
import type { PacketRow } from '../packets';
import { ingestPacket } from '../../workflows/ingest-packet';

export interface IngestStart {
  workflowId: string;
  /** false when the packet's ingest had already finished; a running one is joined (true) */
  started: boolean;
  handle: WorkflowHandle<typeof ingestPacket>;
}

export async function startPacketIngest(
  client: Client,
  opts: {
    packet: Pick<PacketRow, 'uuid' | 'stage' | 'original_name' | 'object_key'>;
    companyAlias: string;
    taskQueue?: string;
  },
): Promise<IngestStart> {
  const { packet, companyAlias } = opts;
  const workflowId = WORKFLOW_IDS.ingestPacket(packet.uuid);
  const fileName = packet.original_name ?? packet.object_key.split('/').pop();
  try {
    const handle = await client.workflow.start(ingestPacket, {
      taskQueue: opts.taskQueue ?? TASK_QUEUES.pipeline,
      workflowId,
      args: [{ packetId: packet.uuid }],
      // a running ingest is joined, a finished one is not started again: one packet, one ingest
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: SA.CompanyAlias, value: companyAlias },
        { key: SA.PacketId, value: packet.uuid },
        { key: SA.PacketStage, value: packet.stage },
      ],
      staticSummary: `Ingest of ${fileName} for ${companyAlias}`,
    });
    return { workflowId, started: true, handle };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return { workflowId, started: false, handle: client.workflow.getHandle<typeof ingestPacket>(workflowId) };
  }
}
