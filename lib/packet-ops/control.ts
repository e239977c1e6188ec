// Operators' changes to a packet: cancel its running ingest, move it back to a stage, run it again.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Sql } from '../db';
import { LoadMapNotFound, resolveLoadMapRef } from '../load-maps/refs';
import { SA, TASK_QUEUES, WORKFLOW_IDS } from '../names';
import { recordPacketEvent, setPacketStage, type PacketRow, type PacketStage } from '../packets';
import { ingestPacket, type IngestFrom } from '../../workflows/ingest-packet';

export class PacketOperationRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PacketOperationRefused';
  }
}

type Packet = PacketRow & { company_alias: string };

/** The ids a packet's ingest ran under: its own, and any operator re-runs (the latest last). */
function workflowIdsOf(packet: Packet): string[] {
  const ids = [WORKFLOW_IDS.ingestPacket(packet.uuid)];
  if (packet.workflow_id && !ids.includes(packet.workflow_id)) ids.push(packet.workflow_id);
  return ids;
}

/**
 * Cancels whichever ingest of the packet is running and waits until it has stopped; returns its id, if any.
 * A workflow nobody works on (no worker for its queue, a worker stuck) cannot act on a cancellation, so
 * after `graceMs` it is terminated instead, with the operator's reason.
 */
export async function cancelRunningIngest(
  client: Client,
  packet: Packet,
  opts: { actor: string; graceMs: number },
): Promise<string | null> {
  for (const workflowId of workflowIdsOf(packet)) {
    const handle = client.workflow.getHandle(workflowId);
    let status: string;
    try {
      status = (await handle.describe()).status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) continue;
      throw err;
    }
    if (status !== 'RUNNING') continue;
    await handle.cancel();
    // the workflow may finish its current activity first; nothing is changed until it has stopped
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      handle.result().then(
        () => true,
        () => true,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), opts.graceMs))),
    ]);
    clearTimeout(timer);
    if (!stopped) {
      await handle
        .terminate(
          `${opts.actor}: did not stop within ${Math.round(opts.graceMs / 1000)} s of its cancellation`,
        )
        .catch(() => {});
    }
    return workflowId;
  }
  return null;
}

export async function runningIngest(client: Client, packet: Packet): Promise<string | null> {
  for (const workflowId of workflowIdsOf(packet)) {
    try {
      if ((await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING')
        return workflowId;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return null;
}

/** Which stage a run from `from` needs the packet to have reached before (rows merged, regions counted). */
const NEEDS: Record<IngestFrom, PacketStage | null> = {
  fetched: null,
  loaded: 'loaded',
  regions_counted: 'regions_counted',
};

export async function reachedStage(sql: Sql, packet: Packet, stage: PacketStage): Promise<boolean> {
  const [row] = await sql`
    select 1 from packet_events where packet_id = ${packet.id} and company_id = ${packet.company_id} and stage = ${stage} limit 1`;
  return Boolean(row);
}

/**
 * Points the packet at another load map for a re-run from its file: `name` (that map's active version),
 * `name@N`, or a bare version number `N` of the map the packet was read with; the same references
 * `herald upload --load-map` and a source's load map take.
 */
export async function chooseLoadMapVersion(sql: Sql, packet: Packet, reference: string): Promise<string> {
  let ref = reference.trim();
  const bare = /^v?(\d+)$/.exec(ref);
  if (bare) {
    const [current] = await sql<{ name: string }[]>`
      select name from company_load_maps where id = ${packet.load_map_id ?? 0} and company_id = ${packet.company_id}`;
    if (!current)
      throw new PacketOperationRefused(
        'the packet has no load map yet: give --load-map as name or name@version',
      );
    ref = `${current.name}@${bare[1]}`;
  }
  let map;
  try {
    map = await resolveLoadMapRef(sql, packet.company_id, packet.company_alias, ref);
  } catch (err) {
    if (err instanceof LoadMapNotFound) throw new PacketOperationRefused(err.message);
    throw err;
  }
  await sql`update data_packets set load_map_id = ${map.id} where id = ${packet.id} and company_id = ${packet.company_id}`;
  return `${map.name} v${map.version}`;
}

/** The name of the load map the packet was read with (its active version is "the map as it is now"). */
export async function currentMapName(sql: Sql, packet: Packet): Promise<string> {
  const [current] = await sql<{ name: string }[]>`
    select name from company_load_maps where id = ${packet.load_map_id ?? 0} and company_id = ${packet.company_id}`;
  if (!current)
    throw new PacketOperationRefused('the packet has no load map yet: give --load-map name or name@version');
  return current.name;
}

/** A held packet released --as-is loads despite its drifted header or garbled text (lib/ingest/packet-holds). */
export async function acceptAsIs(sql: Sql, packet: Packet): Promise<void> {
  await sql`
    update data_packets
    set metadata = metadata || ${sql.json({ accepted: { drift: true, garbledText: true } })}
    where id = ${packet.id} and company_id = ${packet.company_id}`;
}

/** Starts a numbered re-run of the packet's ingest from `from`, recorded in its stage log with the operator. */
export async function startPacketRun(
  deps: { sql: Sql; client: Client; taskQueue?: string },
  packet: Packet,
  opts: { from: IngestFrom; actor: string; event: string; details?: Record<string, unknown> },
): Promise<{ workflowId: string; run: number }> {
  const { sql, client } = deps;
  if (opts.from === 'fetched' && packet.files_purged_at) {
    throw new PacketOperationRefused(
      `packet ${packet.uuid}'s file was deleted on ${packet.files_purged_at.toISOString().slice(0, 10)}, past its company's packet retention; upload the file again (a new packet), or run from loaded`,
    );
  }
  const needs = NEEDS[opts.from];
  if (needs && !(await reachedStage(sql, packet, needs))) {
    throw new PacketOperationRefused(
      `packet ${packet.uuid} never reached ${needs}; run it from the file (--from fetched)`,
    );
  }
  const [{ n } = { n: 0 }] = await sql<{ n: number }[]>`
    select count(*)::int as n from packet_events
    where packet_id = ${packet.id} and company_id = ${packet.company_id} and details ? 'run'`;
  const run = n + 1;
  const workflowId = WORKFLOW_IDS.ingestReplay(packet.uuid, run);
  const fileName = packet.original_name ?? packet.object_key.split('/').pop();
  await sql.begin(async (tx) => {
    await tx`update data_packets set workflow_id = ${workflowId} where id = ${packet.id} and company_id = ${packet.company_id}`;
    await recordPacketEvent(tx, packet, packet.stage, opts.event, opts.actor, {
      ...(opts.details ?? {}),
      from: opts.from,
      run,
      workflowId,
    });
  });
  await client.workflow.start(ingestPacket, {
    taskQueue: deps.taskQueue ?? TASK_QUEUES.pipeline,
    workflowId,
    args: [{ packetId: packet.uuid, from: opts.from }],
    typedSearchAttributes: [
      { key: SA.CompanyAlias, value: packet.company_alias },
      { key: SA.PacketId, value: packet.uuid },
      { key: SA.PacketStage, value: packet.stage },
    ],
    staticSummary: `Re-run ${run} (from ${opts.from}) of ${fileName} for ${packet.company_alias}`,
  });
  return { workflowId, run };
}

/** Moves the packet to `stage` by hand (after its workflow was cancelled), recorded with the operator. */
export async function setStageByOperator(
  sql: Sql,
  packet: Packet,
  stage: PacketStage,
  actor: string,
  event: string,
  details: Record<string, unknown> = {},
) {
  return setPacketStage(sql, packet.id, stage, actor, {
    event,
    details,
    error: stage === 'failed' ? 'set by an operator' : null,
  });
}
