// `herald held`: why a company's messages are held (no credits, a plan limit), and releasing them to be sent again.
import type { Command } from 'commander';
import { releaseHeld, summarizeHeld } from '../../lib/dispatch/release-held';
import type { Channel } from '../../lib/providers/types';
import { print, UsageError, withApp } from '../cli-kit';

export function registerHeldCommands(program: Command): void {
  program
    .command('held')
    .description(
      "show a company's held messages by reason; --release puts them back to be sent (after credits or a plan change)",
    )
    .requiredOption('--company <alias>', 'the company alias')
    .option('--channel <channel>', 'only sms, voice or email')
    .option('--release', 'move them back to scheduled: the next dispatch sends or holds them again')
    .option('--json', 'print as JSON')
    .action((o: { company: string; channel?: string; release?: boolean; json?: boolean }) =>
      withApp({}, async (app) => {
        if (o.channel && !['sms', 'voice', 'email'].includes(o.channel))
          throw new UsageError('--channel must be sms, voice or email');
        const [company] = await app.sql<
          { id: number }[]
        >`select id from companies where alias = ${o.company}`;
        if (!company) throw new UsageError(`no company has the alias "${o.company}"`);
        const held = (await summarizeHeld(app.sql, company.id)).filter(
          (h) => !o.channel || h.channel === o.channel,
        );
        const released = o.release
          ? await releaseHeld(app.sql, company.id, {
              channel: o.channel as Channel | undefined,
              actor: app.config.actor,
            })
          : 0;
        print(!!o.json, { held, released }, () => [
          ...(held.length
            ? held.map((h) => `${h.channel.padEnd(5)} ${String(h.messages).padStart(7)}  ${h.reason}`)
            : ['no held messages']),
          ...(o.release ? [`released ${released} message(s) to be sent again`] : []),
        ]);
      }),
    );
}
