// Provider accounts: which account sends a company's channel, its cap, batch size, fallback and task queue.
import type { Sql } from '../db';
import { providerTaskQueue } from '../names';
import type { Channel, ProviderKind } from './types';

export interface ProviderAccount {
  id: number;
  key: string;
  channel: Channel;
  provider: ProviderKind;
  /** the vendor-side cap, messages per second across every worker */
  maxPerSecond: number;
  batchSize: number;
  fallbackKey: string | null;
  settings: { messagingServiceSid?: string; configurationSet?: string };
  active: boolean;
  /** the Temporal task queue whose workers send for this account */
  taskQueue: string;
}

type Row = Omit<ProviderAccount, 'taskQueue'>;

const columns = (sql: Sql) => sql`
  a.id, a.key, a.channel, a.provider, a.max_per_second::float8 as "maxPerSecond", a.batch_size as "batchSize",
  f.key as "fallbackKey", a.settings, a.active`;

const withQueue = (row: Row): ProviderAccount => ({
  ...row,
  taskQueue: providerTaskQueue(row.provider, row.key),
});

export class UnknownAccountError extends Error {
  override readonly name = 'UnknownAccountError';
}

export async function loadAccount(sql: Sql, key: string): Promise<ProviderAccount> {
  const [row] = await sql<Row[]>`
    select ${columns(sql)} from provider_accounts a left join provider_accounts f on f.id = a.fallback_account_id
    where a.key = ${key}`;
  if (!row) throw new UnknownAccountError(`no provider account has the key "${key}"`);
  return withQueue(row);
}

export async function listActiveAccounts(sql: Sql): Promise<ProviderAccount[]> {
  const rows = await sql<Row[]>`
    select ${columns(sql)} from provider_accounts a left join provider_accounts f on f.id = a.fallback_account_id
    where a.active order by a.key`;
  return rows.map(withQueue);
}

/**
 * The account that sends a company's messages on a channel: the one its settings name
 * (`settings.accounts.sms`), else the channel's default.
 */
export async function accountForCompany(
  sql: Sql,
  companyId: number,
  channel: Channel,
): Promise<ProviderAccount> {
  const [row] = await sql<{ key: string }[]>`
    select coalesce(
      (select a.key from companies c join provider_accounts a on a.key = c.settings -> 'accounts' ->> ${channel}
       where c.id = ${companyId} and a.active and a.channel = ${channel}),
      (select key from provider_accounts where channel = ${channel} and is_default and active)) as key`;
  if (!row?.key)
    throw new UnknownAccountError(
      `no active ${channel} provider account is the default, and company ${companyId} names none`,
    );
  return loadAccount(sql, row.key);
}

export interface AccountDefinition {
  key: string;
  channel: Channel;
  provider: ProviderKind;
  maxPerSecond: number;
  batchSize: number;
  settings?: ProviderAccount['settings'];
  senders?: {
    address: string;
    kind: 'long_code' | 'toll_free' | 'short_code' | 'email';
    maxPerSecond: number;
  }[];
}

/** Creates or updates an account (and its shared senders); used for the configured accounts and by tests. */
export async function upsertAccount(sql: Sql, def: AccountDefinition): Promise<ProviderAccount> {
  const [row] = await sql<{ id: number }[]>`
    insert into provider_accounts (key, channel, provider, max_per_second, batch_size, settings)
    values (${def.key}, ${def.channel}, ${def.provider}, ${def.maxPerSecond}, ${def.batchSize}, ${sql.json(def.settings ?? {})})
    on conflict (key) do update set channel = excluded.channel, provider = excluded.provider,
      max_per_second = excluded.max_per_second, batch_size = excluded.batch_size, settings = excluded.settings, active = true
    returning id`;
  for (const s of def.senders ?? []) {
    await sql`
      insert into sender_numbers (account_id, address, kind, max_per_second)
      values (${row!.id}, ${s.address}, ${s.kind}, ${s.maxPerSecond})
      on conflict (account_id, address) do update set kind = excluded.kind, max_per_second = excluded.max_per_second, active = true`;
  }
  return loadAccount(sql, def.key);
}

export async function setFallback(sql: Sql, key: string, fallbackKey: string | null): Promise<void> {
  await sql`
    update provider_accounts set fallback_account_id = (select id from provider_accounts where key = ${fallbackKey})
    where key = ${key}`;
}

/** Makes `key` its channel's default account, in one transaction so there is never none. */
export async function makeDefault(sql: Sql, key: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      update provider_accounts set is_default = false
      where is_default and channel = (select channel from provider_accounts where key = ${key}) and key <> ${key}`;
    await tx`update provider_accounts set is_default = true where key = ${key}`;
  });
}
