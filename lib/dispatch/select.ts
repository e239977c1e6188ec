// Pages through a company's due messages of one channel by id, so a dispatch workflow carries only ids and a cursor.
import type { Sql } from '../db';
import type { Channel } from '../providers/types';

export interface DueSelection {
  companyId: number;
  channel: Channel;
  /** only this region's messages (a region worker's share); unset = all regions */
  region?: string;
  /** ISO time: messages whose contact time is at or before it */
  dueBefore: string;
  /** only messages this reminder-region workflow screened ready (quiet hours, opt-outs, expiry checked) */
  screenedBy?: string;
  afterId: number;
  limit: number;
}

export async function selectDueMessageIds(sql: Sql, s: DueSelection): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    select id from messages
    where company_id = ${s.companyId} and channel = ${s.channel} and state = 'scheduled'
      and contact_at <= ${s.dueBefore} and id > ${s.afterId}
      and (expires_at is null or expires_at > now())
      and ${s.region === undefined ? sql`true` : sql`region = ${s.region}`}
      and ${s.screenedBy === undefined || s.screenedBy === null ? sql`true` : sql`screened_by = ${s.screenedBy}`}
    order by id
    limit ${s.limit}`;
  return rows.map((r) => r.id);
}
