// What a packet that loaded anyway should tell its operator: a drifted header, garbled text; in its log and metadata.
import type { Sql } from '../db';
import { recordPacketEvent } from '../packets';
import { describeDrift } from './header-drift';
import { describeGarbledText, garbledCause } from './packet-holds';
import type { PacketContext } from './packet-context';
import type { StageResult } from './stage-rows';

export async function recordLoadWarnings(
  sql: Sql,
  context: PacketContext,
  result: Pick<StageResult, 'drift' | 'garbledText'>,
  actor: string,
): Promise<void> {
  const warnings: string[] = [];
  if (result.drift) {
    const label = `${context.loadMap.name} v${context.loadMap.version}`;
    warnings.push(
      `${describeDrift(result.drift, label)}; loaded with the columns it has${result.drift.added.length ? ', the new ones kept as extras' : ''}`,
    );
  }
  if (result.garbledText)
    warnings.push(`${describeGarbledText(result.garbledText)}. ${garbledCause(context)}`);
  if (!warnings.length) return;
  await sql`
    update data_packets set metadata = metadata || ${sql.json({ warnings })}
    where id = ${context.packet.id} and company_id = ${context.company.id}`;
  for (const warning of warnings)
    await recordPacketEvent(sql, context.packet, 'fetched', 'warning', actor, {
      warning,
      ...(result.drift ? { drift: result.drift } : {}),
      ...(result.garbledText ? { garbledText: result.garbledText } : {}),
    });
}
