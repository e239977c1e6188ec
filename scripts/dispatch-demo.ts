// `npm start`'s sending summary: the newest outbox entries and a company's messages by channel and state.
import type { App } from '../lib/app';
import { listOutbox } from '../lib/providers/outbox';

const CHANNELS = ['sms', 'voice', 'email'] as const;

/** The lines `npm start` prints: the newest outbox entries, then messages by channel and state. */
export async function describeSending(app: App, companyAlias: string, limit = 10): Promise<string[]> {
  const [company] = await app.sql<{ id: number }[]>`select id from companies where alias = ${companyAlias}`;
  if (!company) return [];
  const lines: string[] = [];
  const outbox = await listOutbox(app.sql, { companyId: company.id, limit });
  lines.push(`Outbox (newest ${outbox.length}):`);
  for (const m of outbox) {
    const text = m.channel === 'email' ? `${m.subject} | ${m.body}` : m.body;
    lines.push(`  ${m.channel.padEnd(5)} to ${m.to_address}: ${text.replace(/\s+/g, ' ').slice(0, 110)}`);
  }
  const states = await app.sql<{ channel: string; state: string; n: number }[]>`
    select channel, state, count(*)::int as n from messages where company_id = ${company.id}
    group by channel, state order by channel, state`;
  lines.push('Messages by channel and state:');
  for (const channel of CHANNELS) {
    const row = states.filter((s) => s.channel === channel).map((s) => `${s.state} ${s.n}`);
    lines.push(`  ${channel.padEnd(5)} ${row.join(', ') || 'none'}`);
  }
  return lines;
}
