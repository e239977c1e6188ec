// The operator CLI: `herald <command> --help` explains each command. Exit codes: 0 ok, 1 failed, 2 usage.
import { Command, CommanderError } from 'commander';
import { loadDotEnv } from '../lib/config';
import { registerArchiveCommands } from './commands/archive';
import { registerCompanyCommands } from './commands/companies';
import { registerCreditCommands } from './commands/credits';
import { registerHeldCommands } from './commands/held';
import { registerIngestCommands } from './commands/ingest';
import { registerMessageCommands } from './commands/messages';
import { registerOutboxCommands } from './commands/outbox';
import { registerReminderCommands } from './commands/reminders';
import { registerReplyCommands } from './commands/replies';
import { registerPacketCommands } from './commands/packets';
import { registerRuntimeCommands } from './commands/runtime';
import { registerSenderCommands } from './commands/senders';
import { registerStatusCommand } from './commands/status';
import { registerTemplateCommands } from './commands/templates';
import { registerWebhookCommands } from './commands/webhooks';

// a reader that stops early (`herald packets list | head`) closes the pipe: the output has ended, which
// is no failure of the command
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

loadDotEnv();
const program = new Command('herald')
  .description('herald: batch data ingest and outbound reminders on Temporal')
  .showHelpAfterError()
  .exitOverride();

registerRuntimeCommands(program);
registerStatusCommand(program);
registerCompanyCommands(program);
registerSenderCommands(program);
registerCreditCommands(program);
registerTemplateCommands(program);
registerOutboxCommands(program);
registerHeldCommands(program);
registerArchiveCommands(program);
registerWebhookCommands(program);
registerPacketCommands(program);
registerIngestCommands(program);
registerReminderCommands(program);
registerReplyCommands(program);
registerMessageCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  throw err;
}
