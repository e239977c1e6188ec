// What the database says about the pipeline right now: read at scrape time by /metrics and by `herald status`,
// so no counter has to be threaded through ingest or dispatch.
import type { Sql, TransactionSql } from '../db';

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
    const messageFigures = await readMessageFigures(tx);
    const caps = await tx<Omit<PipelineState['caps'][number], 'sentLastMinute'>[]>`
      select a.key as account, a.channel, a.max_per_second::float8 as "maxPerSecond",
             coalesce((select sum(s.have) from send_window_shares s
                       where s.key = a.key and s.expires_at > now()), 0)::int as "sharesHeld"
      from provider_accounts a where a.active order by a.key`;
    const webhooks = await tx<PipelineState['webhooks']>`
      select status, count(*)::int as count,
             coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as "oldestSeconds"
      from webhook_deliveries where status in ('pending', 'delivering')
      group by status order by status`;
    const { messages, sentLastMinute, providerErrors, due } = messageFigures;
    return {
      packets,
      rows: rows!,
      messages,
      caps: caps.map((c) => ({ ...c, sentLastMinute: sentLastMinute.get(c.account) ?? 0 })),
      providerErrors,
      webhooks,
      due,
    };
  });
}

type MessageFigures = Pick<PipelineState, 'messages' | 'providerErrors' | 'due'> & {
  sentLastMinute: Map<string, number>;
};

/**
 * Everything read from `messages` in one pass over the table: it is the largest table, and a scan per
 * figure (one per provider account for the sends of the last minute) outran the scrape's time limit
 * on a table of a few million rows on a busy machine.
 */
async function readMessageFigures(tx: TransactionSql): Promise<MessageFigures> {
  const groups = await tx<
    {
      company: string | null;
      state: string | null;
      channel: string | null;
      account: string | null;
      provider: string | null;
      code: string | null;
      count: number;
      due: number;
      oldestDueSeconds: number;
      set: number;
    }[]
  >`
    with m as (
      select company_id, state, channel,
             case when sent_at > now() - interval '1 minute' then provider_account end as recent_account,
             case when state = 'failed' then coalesce(provider, 'none') end as failed_provider,
             case when state = 'failed'
                  then substring(status_description from '^([A-Za-z0-9_.-]+): ') end as failed_code,
             case when state = 'scheduled' and contact_at <= now() then contact_at end as due_at
      from messages)
    select c.alias as company, g.state, g.channel, g.account, g.provider, g.code, g.count, g.due,
           g.oldest_due_seconds as "oldestDueSeconds", g.set
    from (
      select company_id, state, channel, recent_account as account, failed_provider as provider,
             failed_code as code, count(*)::int as count, count(due_at)::int as due,
             coalesce(extract(epoch from now() - min(due_at)), 0)::float8 as oldest_due_seconds,
             grouping(company_id, state, channel, recent_account, failed_provider, failed_code)::int as set
      from m
      group by grouping sets ((company_id, state, channel), (recent_account), (failed_provider, failed_code))
    ) g left join companies c on c.id = g.company_id`;
  // grouping() sets a bit per column left out of a row's set, the first column highest
  const BY_STATE = 0b000111;
  const BY_ACCOUNT = 0b111011;
  const BY_FAILURE = 0b111100;
  const messages: PipelineState['messages'] = [];
  const providerErrors: PipelineState['providerErrors'] = [];
  const sentLastMinute = new Map<string, number>();
  const due = { count: 0, oldestSeconds: 0 };
  for (const g of groups) {
    if (g.set === BY_STATE) {
      messages.push({ company: g.company!, state: g.state!, channel: g.channel!, count: g.count });
      due.count += g.due;
      due.oldestSeconds = Math.max(due.oldestSeconds, g.oldestDueSeconds);
    } else if (g.set === BY_ACCOUNT && g.account !== null) {
      sentLastMinute.set(g.account, g.count);
    } else if (g.set === BY_FAILURE && g.code !== null) {
      providerErrors.push({ provider: g.provider!, code: g.code, count: g.count });
    }
  }
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  messages.sort(
    (a, b) => byName(a.company, b.company) || byName(a.state, b.state) || byName(a.channel, b.channel),
  );
  providerErrors.sort((a, b) => byName(a.provider, b.provider) || byName(a.code, b.code));
  return { messages, providerErrors, sentLastMinute, due };
}
