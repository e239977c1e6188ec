// Credits an operator grants a company (ledger entries with a reason), and what it has, owes and holds.
import type { Sql, TransactionSql } from '../db';
import { releaseHeldIn, summarizeHeld, type HeldSummary } from '../dispatch/release-held';
import { CompanyInputError } from './companies';

export interface Grant {
  /** signed: a purchase adds; an adjustment may take away */
  credits: number;
  reason: string;
  kind: 'purchase' | 'adjustment';
  /** a credit package (credit_prices) the purchase was of: its price per credit gives the amount */
  packageCredits?: number;
}

export interface GrantResult {
  entryId: number;
  credits: number;
  amount: number | null;
  balance: number;
  /** held messages put back in line to be sent, since the balance is above zero again */
  released: number;
}

/**
 * Appends the ledger entry (the balance follows by trigger, migration 0020) and, when the balance is
 * then above zero, puts the company's held messages back in line in the same transaction: the next
 * dispatch sends what the credits now cover and holds the rest again (lib/dispatch/release-held).
 */
export async function grantCredits(
  tx: TransactionSql,
  company: { id: number },
  grant: Grant,
  actor: string,
): Promise<GrantResult> {
  if (
    !Number.isFinite(grant.credits) ||
    grant.credits === 0 ||
    Math.round(grant.credits * 100) !== grant.credits * 100
  )
    throw new CompanyInputError('credits: must be a number other than 0, with at most two decimals');
  if (grant.kind === 'purchase' && grant.credits < 0)
    throw new CompanyInputError('credits: a purchase adds credits; take credits away with --adjust');
  if (grant.reason.trim() === '') throw new CompanyInputError('reason: say why, e.g. "invoice 2027-014"');
  let price: { id: number; price: string } | undefined;
  if (grant.packageCredits !== undefined) {
    [price] = await tx<{ id: number; price: string }[]>`
      select id, price_per_credit::text as price from credit_prices where credits_package = ${grant.packageCredits}`;
    if (!price) {
      const packages = await tx<
        { credits_package: number }[]
      >`select credits_package from credit_prices order by 1`;
      throw new CompanyInputError(
        `package: there is no package of ${grant.packageCredits} credits (packages: ${packages.map((p) => p.credits_package).join(', ')})`,
      );
    }
  }
  const amount = price ? Math.round(grant.credits * Number(price.price) * 100) / 100 : null;
  const [entry] = await tx<{ id: number }[]>`
    insert into credit_ledger (company_id, kind, credits, credit_price_id, amount, note, actor)
    values (${company.id}, ${grant.kind}, ${grant.credits}, ${price?.id ?? null}, ${amount}, ${grant.reason.trim()}, ${actor})
    returning id`;
  const [balance] = await tx<{ balance: string }[]>`
    select balance::text from company_credit_balances where company_id = ${company.id}`;
  const released = Number(balance!.balance) > 0 ? await releaseHeldIn(tx, company.id, { actor }) : 0;
  return { entryId: entry!.id, credits: grant.credits, amount, balance: Number(balance!.balance), released };
}

export interface CreditStatement {
  balance: number;
  reserved: number;
  held: HeldSummary[];
  entries: {
    at: Date;
    kind: string;
    credits: number;
    amount: number | null;
    note: string | null;
    actor: string;
  }[];
  /** debits for sends since the first entry shown, by channel (one ledger row per message) */
  debits: { kind: string; entries: number; credits: number }[];
}

export async function creditStatement(sql: Sql, companyId: number, limit = 20): Promise<CreditStatement> {
  const [account] = await sql<{ balance: string; reserved: string }[]>`
    select balance::text, reserved::text from company_credit_balances where company_id = ${companyId}`;
  const entries = await sql<
    (Omit<CreditStatement['entries'][number], 'credits' | 'amount'> & {
      credits: string;
      amount: string | null;
    })[]
  >`
    select created_at as at, kind, credits::text, amount::text, note, actor from credit_ledger
    where company_id = ${companyId} and kind not in ('debit', 'call_minutes')
    order by id desc limit ${limit}`;
  const debits = await sql<{ kind: string; entries: number; credits: string }[]>`
    select kind, count(*)::int as entries, sum(credits)::text as credits from credit_ledger
    where company_id = ${companyId} and kind in ('debit', 'call_minutes') group by kind order by kind`;
  return {
    balance: Number(account?.balance ?? 0),
    reserved: Number(account?.reserved ?? 0),
    held: await summarizeHeld(sql, companyId),
    entries: entries.map((e) => ({
      ...e,
      credits: Number(e.credits),
      amount: e.amount === null ? null : Number(e.amount),
    })),
    debits: debits.map((d) => ({ ...d, credits: Number(d.credits) })),
  };
}
