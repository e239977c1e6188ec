// herald's own Prometheus metrics, in the text exposition format: the database's view of the pipeline
// and this process's send windows, joined at scrape time to the Temporal SDK's own metrics.
import type { Sql } from '../db';
import { windowSharesSnapshot } from '../rates/window-shares';
import { repliesReport } from '../ingress/replies-report';
import { readPipelineState } from './pipeline-state';

type Labels = Record<string, string>;

class Exposition {
  private readonly lines: string[] = [];
  metric(name: string, type: 'gauge' | 'counter', help: string, samples: [Labels, number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${value}`);
  }
  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Labels) => {
  const entries = Object.entries(labels);
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}` : '';
};

export async function heraldMetrics(sql: Sql): Promise<string> {
  const state = await readPipelineState(sql);
  const out = new Exposition();
  out.metric(
    'herald_packets',
    'gauge',
    'Data packets by company and stage.',
    state.packets.map((p) => [{ company: p.company, stage: p.stage }, p.count]),
  );
  out.metric(
    'herald_packet_rows',
    'gauge',
    'Rows of the packets in the database: read, loaded, rejected, duplicate.',
    Object.entries(state.rows).map(([kind, n]) => [{ kind }, n]),
  );
  out.metric(
    'herald_messages',
    'gauge',
    'Messages in the live table by company, state and channel.',
    state.messages.map((m) => [{ company: m.company, state: m.state, channel: m.channel }, m.count]),
  );
  out.metric(
    'herald_send_cap_per_second',
    'gauge',
    "A provider account's cap at the vendor, messages per second across all workers.",
    state.caps.map((c) => [{ account: c.account, channel: c.channel }, c.maxPerSecond]),
  );
  out.metric(
    'herald_sent_per_second',
    'gauge',
    'Messages an account sent per second over the last minute, across all workers (against herald_send_cap_per_second).',
    state.caps.map((c) => [{ account: c.account, channel: c.channel }, c.sentLastMinute / 60]),
  );
  out.metric(
    'herald_send_shares_held',
    'gauge',
    "Sends per second of an account's cap held by the worker processes' window shares together.",
    state.caps.map((c) => [{ account: c.account, channel: c.channel }, c.sharesHeld]),
  );
  const windows = windowSharesSnapshot(sql);
  out.metric(
    'herald_send_window_cap',
    'gauge',
    'A cap this process sends under (an account or a sender number), per second.',
    windows.map((w) => [{ limiter: w.key }, w.cap]),
  );
  out.metric(
    'herald_send_window_share',
    'gauge',
    "This process's share of that cap now.",
    windows.map((w) => [{ limiter: w.key }, w.share]),
  );
  out.metric(
    'herald_send_window_sends',
    'gauge',
    "This process's sends under that cap in the last second (in flight or answered).",
    windows.map((w) => [{ limiter: w.key }, w.sendsLastSecond]),
  );
  out.metric(
    'herald_provider_errors',
    'gauge',
    'Failed messages in the live table by provider and vendor error code.',
    state.providerErrors.map((e) => [{ provider: e.provider, code: e.code }, e.count]),
  );
  out.metric(
    'herald_webhook_backlog',
    'gauge',
    'Webhook deliveries not yet delivered, by status.',
    ['pending', 'delivering'].map((status) => [
      { status },
      state.webhooks.find((w) => w.status === status)?.count ?? 0,
    ]),
  );
  out.metric(
    'herald_webhook_oldest_pending_seconds',
    'gauge',
    'Age of the oldest webhook delivery not yet delivered.',
    [[{}, Math.max(0, ...state.webhooks.map((w) => w.oldestSeconds))]],
  );
  const replies = await repliesReport(sql, { sinceDays: 1, limit: 0 });
  out.metric(
    'herald_replies',
    'gauge',
    "Texts people sent back in the last day: matched one company's reminder, matched none, or ambiguous " +
      '(several companies texted the phone from that number: acted on nobody, see herald replies).',
    (['matched', 'unmatched', 'ambiguous'] as const).map((outcome) => [{ outcome }, replies[outcome]]),
  );
  out.metric('herald_due_messages', 'gauge', 'Scheduled messages whose contact time has come.', [
    [{}, state.due.count],
  ]);
  out.metric(
    'herald_oldest_due_message_seconds',
    'gauge',
    'How long the oldest due message has waited past its contact time.',
    [[{}, state.due.oldestSeconds]],
  );
  return out.text();
}
