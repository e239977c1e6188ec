// Loads what any step on a batch needs (account, provider, company, senders, messages) and how to reconcile it.
import type { Sql, TransactionSql } from '../db';
import { loadAccount, type ProviderAccount } from '../providers/accounts';
import type { ProviderRegistry } from '../providers/registry';
import type { AnyProvider } from '../providers/types';
import type { ClaimScope } from '../messages/claim';
import {
  loadCompanyContext,
  loadMessages,
  loadSenders,
  type CompanyContext,
  type DispatchMessage,
  type SenderNumber,
} from '../messages/load';
import { prepareSends, type PrepareOptions } from '../render/prepare';
import { reconcile, type ReconcileResult } from './reconcile';
import type { SendLease } from '../send-lease';

export interface BatchRef {
  companyId: number;
  accountKey: string;
  messageIds: number[];
  token: string;
}

export interface BatchContext {
  account: ProviderAccount;
  provider: AnyProvider;
  company: CompanyContext;
  senders: SenderNumber[];
  rows: DispatchMessage[];
  scope: ClaimScope;
  prepareOptions: PrepareOptions;
}

/** Read after the lease's fence: the rows then show everything earlier attempts of the batch claimed. */
export async function loadBatchContext(
  sql: Sql,
  providers: ProviderRegistry,
  ref: BatchRef,
  lease: SendLease,
): Promise<BatchContext> {
  const account = await loadAccount(sql, ref.accountKey);
  const provider = providers.forAccount(account);
  const company = await loadCompanyContext(sql, ref.companyId, account.channel);
  const senders = await loadSenders(sql, account.id, company.id);
  const rows = await loadMessages(sql, company.id, account.channel, ref.messageIds);
  return {
    account,
    provider,
    company,
    senders,
    rows,
    scope: {
      company,
      channel: account.channel,
      token: ref.token,
      provider: account.provider,
      accountKey: account.key,
      lease,
    },
    prepareOptions: {
      company,
      account,
      senders,
      publicBaseUrl: providers.publicBaseUrl,
      unsubscribeSecret: providers.unsubscribeSecret,
    },
  };
}

/** The states a message of the batch may be left in undecided: an attempt settles 'sending', a sweep 'unknown' too. */
export type Undecided = readonly ('sending' | 'unknown')[];
const SENDING: Undecided = ['sending'];

/** Messages this batch (an earlier attempt of it) left undecided. */
export const ownSending = (ctx: BatchContext, states: Undecided = SENDING) =>
  ctx.rows.filter(
    (r) => (states as readonly string[]).includes(r.state) && r.dispatchToken === ctx.scope.token,
  );

/**
 * This attempt takes on what earlier attempts of the batch left in 'sending' (their late writes then
 * miss). Call after the lease's fence and before loading the batch, so the rows read are all ours.
 */
export async function takeOnEarlierClaims(
  sql: Sql,
  ref: BatchRef,
  lease: SendLease,
  states: Undecided = SENDING,
): Promise<void> {
  await sql.begin(async (t) => {
    const tx = t as TransactionSql;
    await lease.hold(tx);
    await tx`
      update messages set claimed_by = ${lease.holder}
      where company_id = ${ref.companyId} and id in ${tx(ref.messageIds)} and state in ${tx(states as string[])}
        and dispatch_token = ${ref.token} and claimed_by is distinct from ${lease.holder}`;
  });
}

/** Call only after takeOnEarlierClaims: what earlier attempts sent has reached the vendor by then. */
export function reconcileOwn(
  sql: Sql,
  ctx: BatchContext,
  onLookupFailure: 'leave' | 'unknown',
  states: Undecided = SENDING,
): Promise<ReconcileResult> {
  return reconcile(ownSending(ctx, states), {
    sql,
    provider: ctx.provider,
    companyId: ctx.company.id,
    // re-rendered: the text is not stored, and rendering is deterministic for the same data and template
    expectedBody: (m) => {
      const [prep] = prepareSends([m], ctx.prepareOptions);
      return prep?.kind === 'ready' && 'body' in prep.send.input ? prep.send.input.body : undefined;
    },
    onLookupFailure,
  });
}
