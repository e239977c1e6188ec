// `herald messages upcoming`: what a company's reminders will send when, computed from its plan and its appointments as they are now.
import { InvalidArgumentError, type Command } from 'commander';
import { InvalidReminderPlan, loadCompanyPlan } from '../../lib/messages/due-steps';
import { upcomingReminders } from '../../lib/messages/upcoming';
import { print, UsageError, withApp } from '../cli-kit';

const instant = (v: string): Date => {
  const at = new Date(v);
  if (Number.isNaN(at.getTime()))
    throw new InvalidArgumentError('must be an ISO date or instant, e.g. 2027-01-15 or 2027-01-15T17:00:00Z');
  return at;
};

export function registerMessageCommands(program: Command): void {
  const messages = program.command('messages').description("a company's reminder messages");

  messages
    .command('upcoming')
    .description(
      'what will be sent when: the steps of the reminder plan still to fall due (computed now) and the messages made but not sent yet',
    )
    .requiredOption('--company <alias>', 'the company alias')
    .option('--from <when>', 'from this time (default now)', instant)
    .option('--to <when>', 'up to this time (default a week after --from)', instant)
    .option('--limit <n>', 'at most this many lines (default 200)', (v) => Number(v), 200)
    .option('--json', 'print as JSON')
    .action((o: { company: string; from?: Date; to?: Date; limit: number; json?: boolean }) =>
      withApp({}, async (app) => {
        const now = new Date();
        const from = o.from ?? now;
        const to = o.to ?? new Date(from.getTime() + 7 * 86_400_000);
        if (to <= from) throw new UsageError('--to must be after --from');
        if (!Number.isInteger(o.limit) || o.limit < 1)
          throw new UsageError('--limit must be a positive number');
        const [company] = await app.sql<
          { id: number }[]
        >`select id from companies where alias = ${o.company}`;
        if (!company) throw new UsageError(`no company has the alias "${o.company}"`);
        let plan;
        try {
          plan = (await loadCompanyPlan(app.sql, company.id))!;
        } catch (err) {
          if (err instanceof InvalidReminderPlan) throw new UsageError(err.message);
          throw err;
        }
        const rows = await upcomingReminders(app.sql, plan, {
          from: from.toISOString(),
          to: to.toISOString(),
          now: now.toISOString(),
          limit: o.limit,
        });
        print(!!o.json, rows, () => [
          `Reminders of ${o.company} from ${from.toISOString()} to ${to.toISOString()}` +
            ` (steps computed from the plan now; a moved or cancelled appointment changes them)`,
          ...(rows.length === 0
            ? ['  nothing']
            : rows.map(
                (r) =>
                  `  ${r.at.toISOString()}  ${r.channel.padEnd(5)} ${r.step.padEnd(14)} ${r.status.padEnd(9)} ` +
                  `${r.region.padEnd(13)} ${r.template}  appointment ${r.appointmentId} at ${r.appointmentAt.toISOString()}`,
              )),
          ...(rows.length === o.limit ? [`  (first ${o.limit}; --limit for more)`] : []),
        ]);
      }),
    );
}
