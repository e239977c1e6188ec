// `herald credits grant|show`: a company's credits as ledger entries with a reason; held messages released when they arrive.
import { InvalidArgumentError, type Command } from 'commander';
import type { App } from '../../lib/app';
import { CompanyInputError } from '../../lib/tenants/companies';
import { creditStatement, grantCredits } from '../../lib/tenants/credits';
import { changeFlags, makeChange, printChange, type ChangeFlags } from '../change-kit';
import { companyByAlias, EXIT, print, UsageError, withApp } from '../cli-kit';

interface GrantFlags extends ChangeFlags {
  company: string;
  reason: string;
  adjust?: boolean;
  package?: number;
}

const amountFlag = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('must be a number of credits');
  return n;
};

async function grant(app: App, credits: number, o: GrantFlags): Promise<number> {
  const company = await companyByAlias(app, o.company);
  try {
    const outcome = await makeChange(
      app,
      o,
      (tx) =>
        grantCredits(
          tx,
          company,
          {
            credits,
            reason: o.reason,
            kind: o.adjust ? 'adjustment' : 'purchase',
            packageCredits: o.package,
          },
          app.config.actor,
        ),
      {
        destructive: (_audit, r) =>
          r.credits < 0 ? `this takes ${-r.credits} credits from ${o.company}` : undefined,
      },
    );
    printChange(o, outcome, (r) => [
      `${o.company}: ${r.credits > 0 ? '+' : ''}${r.credits} credits (${o.reason})${r.amount !== null ? `, ${r.amount} charged` : ''}; balance ${r.balance}`,
      r.released
        ? `  ${r.released} held message(s) ${outcome.applied ? 'put' : 'would be put'} back in line: the next reminder run sends what the credits cover`
        : '  no held messages to release',
    ]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CompanyInputError) throw new UsageError(err.message);
    throw err;
  }
}

export function registerCreditCommands(program: Command): void {
  const credits = program.command('credits').description("a company's credits: grant them, see the balance");
  changeFlags(
    credits
      .command('grant')
      .description('add credits (a ledger entry with the reason); messages held for credits are released')
      .argument('<credits>', 'how many; negative only with --adjust', amountFlag)
      .requiredOption('--company <alias>', 'the company')
      .requiredOption('--reason <text>', 'why, e.g. "invoice 2027-014" (kept in the ledger)')
      .option('--adjust', 'an adjustment (may be negative) rather than a purchase')
      .option(
        '--package <credits>',
        'the credit package bought (5000, 20000, 50000): records its price',
        amountFlag,
      ),
    { confirms: true },
  ).action((amount: number, o: GrantFlags) => withApp({}, (app) => grant(app, amount, o)));
  credits
    .command('show')
    .description('balance, credits reserved by sends in flight, held messages, the latest entries')
    .requiredOption('--company <alias>', 'the company')
    .option('--limit <n>', 'how many entries (default 20)', amountFlag, 20)
    .option('--json', 'print as JSON')
    .action((o: { company: string; limit: number; json?: boolean }) =>
      withApp({}, async (app) => {
        const company = await companyByAlias(app, o.company);
        const s = await creditStatement(app.sql, company.id, o.limit);
        print(!!o.json, s, () => [
          `${o.company}: balance ${s.balance}, reserved ${s.reserved}`,
          ...s.held.map((h) => `  held ${h.messages} ${h.channel}: ${h.reason}`),
          ...s.debits.map((d) => `  ${d.kind}: ${d.entries} entries, ${d.credits} credits`),
          ...s.entries.map(
            (e) =>
              `  ${e.at.toISOString().slice(0, 16)}  ${e.kind.padEnd(10)} ${String(e.credits).padStart(10)}  ${e.note ?? ''}  (${e.actor})`,
          ),
        ]);
      }),
    );
}
