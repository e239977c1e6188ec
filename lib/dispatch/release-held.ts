// Held messages (no credits, a plan limit) wait for an operator: see why, and put them back in line to be sent.
import type { Sql, TransactionSql } from '../db';
import type { Channel } from '../providers/types';
import { recordMessageEvents } from '../messages/events';

export interface HeldSummary {
  channel: Channel;
  reason: string;
  messages: number;
}

export async function summarizeHeld(sql: Sql, companyId: number): Promise<HeldSummary[]> {
  return sql<HeldSummary[]>`
    select channel, coalesce(status_description, 'held') as reason, count(*)::int as messages
    from messages where company_id = ${companyId} and state = 'held'
    group by channel, status_description order by channel, messages desc`;
}

/** held -> scheduled: the next dispatch sends them if the credits or the plan now allow it, or holds them again. */
export async function releaseHeld(
  sql: Sql,
  companyId: number,
  opts: { channel?: Channel; actor: string },
): Promise<number> {
  return (await sql.begin((t) => releaseHeldIn(t as TransactionSql, companyId, opts))) as number;
}

/** releaseHeld inside the caller's transaction (a credit grant releases what it pays for in the same commit). */
export async function releaseHeldIn(
  tx: TransactionSql,
  companyId: number,
  opts: { channel?: Channel; actor: string },
): Promise<number> {
  const rows = await tx<{ id: number; uuid: string; channel: Channel }[]>`
    update messages set state = 'scheduled', status_description = null, last_event_at = now()
    where company_id = ${companyId} and state = 'held'
      and ${opts.channel ? tx`channel = ${opts.channel}` : tx`true`}
    returning id, uuid, channel`;
  const at = Date.now();
  await recordMessageEvents(
    tx,
    companyId,
    rows.map((r) => ({
      messageId: r.id,
      channel: r.channel,
      eventId: `released:${r.uuid}:${at}`,
      type: 'released',
      status: 'scheduled',
      reason: `released by ${opts.actor}`,
    })),
  );
  return rows.length;
}
