// What the database says about the pipeline right now: read at scrape time by /metrics and by `herald status`,
// so no counter has to be threaded through ingest or dispatch.
import type { Sql } from '../db';

export interface PipelineState {
  packets: { company: string; stage: string; count: number }[];
  rows: { read: number; loaded: number; rejected: number; duplicate: number };
  messages: { company: string; state: string; channel: string; count: number }[];
  caps: {
    account: string;
    channel: string;
    maxPerSecond: number;
    sharesHeld: number;
    sentLastMinute: number;
  }[];
  /** failed messages by the vendor code their reason starts with (ProviderError.reason: "CODE: message") */
  providerErrors: { provider: string; code: string; count: number }[];
  webhooks: { status: string; count: number; oldestSeconds: number }[];
  /** scheduled messages already due, and how long the oldest has waited */
  due: { count: number; oldestSeconds: number };
}

export async function readPipelineState(sql: Sql): Promise<PipelineState> {
  // one snapshot: the figures of one screen agree with each other
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    // a scrape never holds up the pipeline: a slow count gives up rather than piles up
    await tx`set local statement_timeout = '5s'`;
    const packets = await tx<{ company: string; stage: string; count: number }[]>`
      select c.alias as company, p.stage, count(*)::int as count
      from data_packets p join companies c on c.id = p.company_id
      group by c.alias, p.stage order by c.alias, p.stage`;
    const [rows] = await tx<PipelineState['rows'][]>`
      select coalesce(sum(rows_read), 0)::bigint::float8 as read,
             coalesce(sum(rows_loaded), 0)::bigint::float8 as loaded,
             coalesce(sum(rows_rejected), 0)::bigint::float8 as rejected,
             coalesce(sum(rows_duplicate), 0)::bigint::float8 as duplicate
      from data_packets`;
    const messages = await tx<PipelineState['messages']>`
      select c.alias as company, m.state, m.channel, count(*)::int as count
      from messages m join companies c on c.id = m.company_id
      group by c.alias, m.state, m.channel order by c.alias, m.state, m.channel`;
    const caps = await tx<PipelineState['caps']>`
      select a.key as account, a.channel, a.max_per_second::float8 as "maxPerSecond",
             coalesce((select sum(s.have) from send_window_shares s
                       where s.key = a.key and s.expires_at > now()), 0)::int as "sharesHeld",
             (select count(*) from messages m
              where m.provider_account = a.key and m.sent_at > now() - interval '1 minute')::int as "sentLastMinute"
      from provider_accounts a where a.active order by a.key`;
    const providerErrors = await tx<PipelineState['providerErrors']>`
      select coalesce(provider, 'none') as provider, substring(status_description from '^([A-Za-z0-9_.-]+): ') as code,
             count(*)::int as count
      from messages
      where state = 'failed' and status_description ~ '^[A-Za-z0-9_.-]+: '
      group by 1, 2 order by 1, 2`;
    const webhooks = await tx<PipelineState['webhooks']>`
      select status, count(*)::int as count,
             coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as "oldestSeconds"
      from webhook_deliveries where status in ('pending', 'delivering')
      group by status order by status`;
    const [due] = await tx<PipelineState['due'][]>`
      select count(*)::int as count,
             coalesce(extract(epoch from now() - min(contact_at)), 0)::float8 as "oldestSeconds"
      from messages where state = 'scheduled' and contact_at <= now()`;
    return { packets, rows: rows!, messages, caps, providerErrors, webhooks, due: due! };
  });
}
