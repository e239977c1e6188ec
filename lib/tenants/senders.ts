// A company's own sender numbers and email identities (sender_numbers rows with its company id), per channel.
import { cleanEmail, cleanPhone } from '../clean';
import type { Sql, TransactionSql } from '../db';
import type { Channel } from '../providers/types';
import { CompanyInputError } from './companies';

export const SENDER_KINDS = ['long_code', 'toll_free', 'short_code', 'email'] as const;
export type SenderKind = (typeof SENDER_KINDS)[number];

/** Carriers' usual throughput per number, messages a second, when the operator gives none. */
const DEFAULT_RATE: Record<SenderKind, number> = { long_code: 1, toll_free: 3, short_code: 100, email: 14 };

export interface SenderInput {
  channel: Channel;
  address: string;
  /** the provider account's key; default the company's account for the channel, else the channel's default */
  account?: string;
  kind?: SenderKind;
  maxPerSecond?: number;
}

export interface SenderView {
  id: number;
  channel: Channel;
  account: string;
  address: string;
  kind: SenderKind;
  maxPerSecond: number;
  active: boolean;
  /** true for the numbers every company without its own shares */
  shared: boolean;
}

/** The address as stored: E.164 for a number, lower-case for an email identity. */
export function senderAddress(channel: Channel, address: string): string {
  const cleaned = channel === 'email' ? cleanEmail(address) : cleanPhone(address);
  if (!cleaned.ok || !cleaned.value)
    throw new CompanyInputError(
      `address: ${cleaned.ok ? 'must not be blank' : cleaned.reason}${channel === 'email' ? '' : ' (give it in E.164, e.g. +16175550100)'}`,
    );
  return cleaned.value;
}

async function accountFor(
  tx: TransactionSql,
  companyId: number,
  channel: Channel,
  key: string | undefined,
): Promise<{ id: number; key: string }> {
  const [account] = await tx<{ id: number; key: string; channel: Channel }[]>`
    select a.id, a.key, a.channel from provider_accounts a
    where a.active and ${
      key
        ? tx`a.key = ${key}`
        : tx`a.channel = ${channel} and (a.key = (select settings -> 'accounts' ->> ${channel} from companies where id = ${companyId})
              or a.is_default)`
    }
    order by (a.key = (select settings -> 'accounts' ->> ${channel} from companies where id = ${companyId})) desc nulls last
    limit 1`;
  if (!account)
    throw new CompanyInputError(
      key
        ? `account: no active provider account has the key "${key}"`
        : `no active ${channel} provider account`,
    );
  if (account.channel !== channel)
    throw new CompanyInputError(`account: ${account.key} sends ${account.channel}, not ${channel}`);
  return account;
}

export async function addSender(
  tx: TransactionSql,
  companyId: number,
  input: SenderInput,
): Promise<SenderView> {
  const address = senderAddress(input.channel, input.address);
  const kind = input.kind ?? (input.channel === 'email' ? 'email' : 'long_code');
  if ((kind === 'email') !== (input.channel === 'email'))
    throw new CompanyInputError(`kind: ${kind} does not fit the ${input.channel} channel`);
  const rate = input.maxPerSecond ?? DEFAULT_RATE[kind];
  if (!(rate > 0)) throw new CompanyInputError('max-per-second: must be above 0');
  const account = await accountFor(tx, companyId, input.channel, input.account);
  // One owner per address on every account: the sender_numbers_owner trigger holds it against
  // concurrent writers (schemas/README.md); this check only names the owner before the insert.
  const [taken] = await tx<{ alias: string | null; account: string }[]>`
    select c.alias, a.key as account from sender_numbers s
    join provider_accounts a on a.id = s.account_id
    left join companies c on c.id = s.company_id
    where s.address = ${address} and s.company_id is distinct from ${companyId}
    limit 1`;
  if (taken)
    throw new CompanyInputError(
      `${address} on ${taken.account} ${taken.alias ? `already belongs to company ${taken.alias}` : 'is already shared by every company'}; a number sends for one company, so its replies reach one`,
    );
  const [row] = await tx<{ id: number }[]>`
    insert into sender_numbers (account_id, company_id, address, kind, max_per_second)
    values (${account.id}, ${companyId}, ${address}, ${kind}, ${rate})
    on conflict (account_id, address) do update
      set kind = excluded.kind, max_per_second = excluded.max_per_second, active = true
    returning id`;
  return (await listSenders(tx, companyId)).find((s) => s.id === row!.id)!;
}

/** Removes the company's own sender(s) with this address; the shared numbers are not the company's to remove. */
export async function removeSender(
  tx: TransactionSql,
  companyId: number,
  address: string,
  channel?: Channel,
): Promise<SenderView[]> {
  const candidates = (await listSenders(tx, companyId)).filter(
    (s) => !s.shared && (!channel || s.channel === channel),
  );
  const wanted = candidates.filter(
    (s) => s.address === (s.channel === 'email' ? address.trim().toLowerCase() : tryPhone(address)),
  );
  if (!wanted.length)
    throw new CompanyInputError(
      `the company has no sender ${address}${channel ? ` on ${channel}` : ''} (its own: ${candidates.map((s) => s.address).join(', ') || 'none'})`,
    );
  await tx`delete from sender_numbers where company_id = ${companyId} and id in ${tx(wanted.map((s) => s.id))}`;
  return wanted;
}

function tryPhone(text: string): string {
  const cleaned = cleanPhone(text);
  return cleaned.ok && cleaned.value ? cleaned.value : text.trim();
}

/** The company's own senders first, then the shared ones it falls back on. */
export async function listSenders(sql: Sql | TransactionSql, companyId: number): Promise<SenderView[]> {
  const rows = await sql<(SenderView & { max: string })[]>`
    select s.id, a.channel, a.key as account, s.address, s.kind, s.max_per_second::text as max, s.active,
           s.company_id is null as shared
    from sender_numbers s join provider_accounts a on a.id = s.account_id
    where s.company_id = ${companyId} or s.company_id is null
    order by s.company_id is null, a.channel, s.address`;
  return rows.map(({ max, ...s }) => ({ ...s, maxPerSecond: Number(max) }));
}
