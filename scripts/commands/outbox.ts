// `herald outbox`: what the local outbox provider "sent", newest first.
import type { Command } from 'commander';
import { listOutbox } from '../../lib/providers/outbox';
import { print, UsageError, withApp } from '../cli-kit';

export function registerOutboxCommands(program: Command): void {
  program
    .command('outbox')
    .description(
      'show the messages the local outbox provider stored (the embedded default instead of Twilio and SES)',
    )
    .option('--company <alias>', "only this company's messages")
    .option('--limit <n>', 'how many, newest first', '20')
    .option('--json', 'print as JSON')
    .action((o: { company?: string; limit: string; json?: boolean }) =>
      withApp({}, async (app) => {
        const limit = Number(o.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new UsageError('--limit must be a positive whole number');
        let companyId: number | undefined;
        if (o.company) {
          const [company] = await app.sql<
            { id: number }[]
          >`select id from companies where alias = ${o.company}`;
          if (!company) throw new UsageError(`no company has the alias "${o.company}"`);
          companyId = company.id;
        }
        const rows = await listOutbox(app.sql, { companyId, limit });
        print(!!o.json, rows, () =>
          rows.length
            ? rows.flatMap((m) => [
                `${m.created_at.toISOString()}  ${m.channel}  ${m.from_address ?? ''} -> ${m.to_address}  (${m.account_key})`,
                ...(m.subject ? [`  subject: ${m.subject}`] : []),
                `  ${m.body.replace(/\n/g, '\n  ')}${m.segments ? `  [${m.segments} segment(s)]` : ''}`,
              ])
            : ['the outbox is empty'],
        );
      }),
    );
}
