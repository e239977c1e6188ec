// `herald replies`: what replies did lately, and the ones that could belong to several companies and acted on none.
import type { Command } from 'commander';
import { repliesReport } from '../../lib/ingress/replies-report';
import { print, UsageError, withApp } from '../cli-kit';

export function registerReplyCommands(program: Command): void {
  program
    .command('replies')
    .description(
      'count the texts people sent back (matched, unmatched, ambiguous) and list the ambiguous ones: ' +
        'sent to a number several companies texted that phone from, they confirm and cancel nothing',
    )
    .option('--days <n>', 'look back this many days', '7')
    .option('--limit <n>', 'list at most this many ambiguous replies', '50')
    .option('--json', 'print as JSON')
    .action((o: { days: string; limit: string; json?: boolean }) =>
      withApp({}, async (app) => {
        const sinceDays = Number(o.days);
        const limit = Number(o.limit);
        if (!Number.isInteger(sinceDays) || sinceDays < 1)
          throw new UsageError('--days must be a whole number of days');
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a whole number');
        const report = await repliesReport(app.sql, { sinceDays, limit });
        print(!!o.json, report, () => [
          `replies in the last ${sinceDays} day(s): ${report.matched} matched, ${report.unmatched} unmatched, ` +
            `${report.ambiguous} ambiguous`,
          ...report.waiting.map(
            (r) =>
              `${r.receivedAt.toISOString()}  to ${r.to}  from ${r.from}  ${r.intent.padEnd(10)} ` +
              `could be for: ${r.companies.join(', ')}  "${r.body}"`,
          ),
          ...(report.ambiguous
            ? ['ambiguous replies act on nobody: give each company that takes replies a number of its own']
            : []),
        ]);
      }),
    );
}
