// Prints a reminder run's summary for people: for its first page and per region what was screened out, deferred and sent.
import type { ReminderRunSummary } from '../../workflows/reminder-run';

const CHANNELS = ['sms', 'voice', 'email'] as const;

export interface RunTotals {
  seen: number;
  deferred: number;
  expired: number;
  cancelled: number;
  skipped: number;
  sent: number;
  held: number;
  failed: number;
  waiting: number;
}

export function runTotals(summary: ReminderRunSummary): RunTotals {
  const t: RunTotals = {
    seen: 0,
    deferred: 0,
    expired: 0,
    cancelled: 0,
    skipped: 0,
    sent: 0,
    held: 0,
    failed: 0,
    waiting: 0,
  };
  // the run's own first page, then its regions' pages
  for (const r of [...(summary.firstPage ? [summary.firstPage] : []), ...summary.regions]) {
    t.seen += r.screened.seen;
    t.deferred += r.screened.deferred;
    t.expired += r.screened.expired;
    t.cancelled += r.screened.cancelled;
    t.skipped += r.screened.skipped;
    for (const c of CHANNELS) {
      const sent = r.sent[c];
      if (!sent) continue;
      t.sent += sent.sent;
      t.held += sent.held;
      t.failed += sent.failed;
      // dispatch's own skips: opted out between screening and sending
      t.skipped += sent.skipped;
      t.waiting += sent.waiting;
    }
  }
  return t;
}

export function describeRun(summary: ReminderRunSummary): string[] {
  const t = runTotals(summary);
  const lines = [
    `Reminder run of ${summary.companyAlias} at ${summary.now}: ${t.seen} due, ${t.sent} sent, ${t.deferred} deferred (quiet hours), ` +
      `${t.expired} expired, ${t.cancelled} cancelled, ${t.skipped} skipped, ${t.held} held, ${t.failed} failed, ${t.waiting} waiting`,
    `  ${summary.created} new messages for plan steps that fell due (made by this run, whatever retries it had)`,
  ];
  const first = summary.firstPage;
  for (const r of [...(first ? [{ ...first, region: 'first page' }] : []), ...summary.regions]) {
    const sent = CHANNELS.flatMap((c) => (r.sent[c] ? [`${c} ${r.sent[c]!.sent}`] : []));
    lines.push(
      `  ${r.region.padEnd(14)} due ${r.screened.seen}, deferred ${r.screened.deferred}, expired ${r.screened.expired}, ` +
        `cancelled ${r.screened.cancelled}, skipped ${r.screened.skipped}; sent ${sent.join(', ') || 'none'}`,
    );
  }
  if (!summary.regions.length && !first?.screened.seen) lines.push('  nothing was due');
  if (first?.error) lines.push(`  ${'first page'.padEnd(14)} FAILED: ${first.error}`);
  for (const f of summary.failed) lines.push(`  ${f.region.padEnd(14)} FAILED: ${f.error}`);
  return lines;
}
