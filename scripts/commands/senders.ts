// `herald senders add|list|remove`: a company's own SMS and voice numbers and email identities, per channel.
import { InvalidArgumentError, type Command } from 'commander';
import type { App } from '../../lib/app';
import type { Channel } from '../../lib/providers/types';
import { CompanyInputError } from '../../lib/tenants/companies';
import {
  addSender,
  listSenders,
  removeSender,
  SENDER_KINDS,
  type SenderKind,
  type SenderView,
} from '../../lib/tenants/senders';
import { changeFlags, makeChange, printChange, type ChangeFlags } from '../change-kit';
import { companyByAlias, EXIT, print, UsageError, withApp } from '../cli-kit';

const channelFlag = (value: string): Channel => {
  if (!['sms', 'voice', 'email'].includes(value))
    throw new InvalidArgumentError('must be sms, voice or email');
  return value as Channel;
};
const kindFlag = (value: string): SenderKind => {
  if (!(SENDER_KINDS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${SENDER_KINDS.join(', ')}`);
  return value as SenderKind;
};
const rateFlag = (value: string): number => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('must be a number of messages a second above 0');
  return n;
};

const describeSender = (s: SenderView): string =>
  `${s.channel.padEnd(5)} ${s.address.padEnd(32)} ${s.kind.padEnd(10)} ${String(s.maxPerSecond).padStart(6)}/s  account ${s.account}` +
  `${s.shared ? '  (shared by companies without their own)' : ''}${s.active ? '' : '  INACTIVE'}`;

/** Input problems (a bad number, an account of another channel) are the command line's: exit code 2. */
async function guarded(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CompanyInputError) throw new UsageError(err.message);
    throw err;
  }
}

interface AddFlags extends ChangeFlags {
  company: string;
  channel: Channel;
  account?: string;
  kind?: SenderKind;
  maxPerSecond?: number;
}

async function add(app: App, address: string, o: AddFlags): Promise<number> {
  const company = await companyByAlias(app, o.company);
  const outcome = await makeChange(app, o, (tx) =>
    addSender(tx, company.id, {
      channel: o.channel,
      address,
      account: o.account,
      kind: o.kind,
      maxPerSecond: o.maxPerSecond,
    }),
  );
  printChange(o, outcome, (s) => [
    `${o.company} sends ${s.channel} from ${s.address} (${s.kind}, ${s.maxPerSecond}/s, account ${s.account})`,
    '  replies to it reach this company alone',
  ]);
  return EXIT.ok;
}

async function remove(
  app: App,
  address: string,
  o: ChangeFlags & { company: string; channel?: Channel },
): Promise<number> {
  const company = await companyByAlias(app, o.company);
  const outcome = await makeChange(
    app,
    o,
    async (tx) => ({ removed: await removeSender(tx, company.id, address, o.channel) }),
    {
      destructive: (_audit, r) =>
        `this removes ${r.removed.map((s) => `${s.channel} sender ${s.address}`).join(', ')} from ${o.company}`,
    },
  );
  printChange(o, outcome, ({ removed }) => [
    ...removed.map(
      (s) =>
        `${outcome.applied ? 'removed' : 'would remove'} ${s.channel} sender ${s.address} from ${o.company}`,
    ),
    `  its messages go out from the shared senders of the account unless it has others of its own`,
  ]);
  return EXIT.ok;
}

export function registerSenderCommands(program: Command): void {
  const senders = program
    .command('senders')
    .description("a company's own numbers (SMS, voice) and email identities, which its messages go out from");
  changeFlags(
    senders
      .command('add')
      .description(
        "add a number or email identity of the company's own (replies to it reach only this company)",
      )
      .argument('<address>', 'a phone number (E.164, e.g. +16175550100) or an email address')
      .requiredOption('--company <alias>', 'the company')
      .requiredOption('--channel <channel>', 'sms, voice or email', channelFlag)
      .option(
        '--account <key>',
        "the provider account it belongs to (default: the company's, else the channel's default)",
      )
      .option('--kind <kind>', `${SENDER_KINDS.join(', ')} (default long_code, email for email)`, kindFlag)
      .option(
        '--max-per-second <n>',
        "the carrier's rate for the number (default 1 for a long code)",
        rateFlag,
      ),
  ).action((address: string, o: AddFlags) => withApp({}, (app) => guarded(() => add(app, address, o))));
  senders
    .command('list')
    .description("the company's own senders, then the shared ones it uses where it has none")
    .requiredOption('--company <alias>', 'the company')
    .option('--json', 'print as JSON')
    .action((o: { company: string; json?: boolean }) =>
      withApp({}, async (app) => {
        const company = await companyByAlias(app, o.company);
        const rows = await listSenders(app.sql, company.id);
        print(!!o.json, rows, () => (rows.length ? rows.map(describeSender) : ['no senders']));
      }),
    );
  changeFlags(
    senders
      .command('remove')
      .description('remove a sender of the company (asks first unless --yes)')
      .argument('<address>', 'the number or email address')
      .requiredOption('--company <alias>', 'the company')
      .option('--channel <channel>', 'only on this channel', channelFlag),
    { confirms: true },
  ).action((address: string, o: ChangeFlags & { company: string; channel?: Channel }) =>
    withApp({}, (app) => guarded(() => remove(app, address, o))),
  );
}
