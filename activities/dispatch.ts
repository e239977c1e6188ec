// Activities that send: route a company's channel to its account, page its due messages, send and settle batches.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  loadAccount,
  accountForCompany,
  UnknownAccountError,
  type ProviderAccount,
} from '../lib/providers/accounts';
import { ProviderConfigError } from '../lib/providers/registry';
import type { Channel } from '../lib/providers/types';
import type { BatchRef } from '../lib/dispatch/batch-context';
import { UnknownCompanyError } from '../lib/messages/load';
import { refreshMessageStats } from '../lib/dispatch/planner-stats';
import { selectDueMessageIds, type DueSelection } from '../lib/dispatch/select';
import { BatchIncomplete, sendBatch } from '../lib/dispatch/send-batch';
import { LeaseLost } from '../lib/send-lease';
import type { BatchCounts } from '../lib/workflow-helpers/batch-counts';
import { settleBatch, type SettledBatch } from '../lib/dispatch/settle-batch';
import {
  accountCanLookUp,
  findStrandedBatches,
  sweepBatch,
  type StrandedBatch,
  type SweepResult,
} from '../lib/dispatch/sweep';
import type { ActivityDeps } from './deps';

export type { StrandedBatch, SweepResult } from '../lib/dispatch/sweep';
export type DispatchChannel = Channel;

export interface AccountRoute {
  key: string;
  taskQueue: string;
  batchSize: number;
  maxPerSecond: number;
  /** a send attempt silent this long is presumed dead (SEND_HEARTBEAT_TIMEOUT_MS) */
  heartbeatTimeoutMs: number;
}

export interface DispatchRoute {
  primary: AccountRoute;
  fallback?: AccountRoute;
}

const routeOf = (a: ProviderAccount, heartbeatTimeoutMs: number): AccountRoute => ({
  key: a.key,
  taskQueue: a.taskQueue,
  batchSize: a.batchSize,
  maxPerSecond: a.maxPerSecond,
  heartbeatTimeoutMs,
});

/**
 * Problems no retry can fix (a missing account, missing credentials) stop at once, naming what to
 * fix. An attempt that stopped because it was cancelled says so, so Temporal records a cancellation.
 */
function permanent(err: unknown): never {
  const cancelled = Context.current().cancellationSignal;
  if (err instanceof LeaseLost && cancelled.aborted) throw cancelled.reason;
  if (err instanceof LeaseLost) throw ApplicationFailure.retryable(err.message, err.name);
  if (
    err instanceof ProviderConfigError ||
    err instanceof UnknownAccountError ||
    err instanceof UnknownCompanyError
  ) {
    throw ApplicationFailure.nonRetryable(err.message, err.name);
  }
  throw err;
}

export function createDispatchActivities({
  sql,
  log,
  providers,
}: Pick<ActivityDeps, 'sql' | 'log' | 'providers'>) {
  const heartbeat = (details: unknown) => Context.current().heartbeat(details);
  /** what a send activity's attempt runs with: its heartbeat, and its cancellation */
  const leased = () => ({
    sql,
    providers,
    log,
    heartbeat,
    cancelled: Context.current().cancellationSignal,
  });

  return {
    async describeDispatchRoute(input: {
      companyId: number;
      channel: Channel;
      accountKey?: string;
    }): Promise<DispatchRoute> {
      try {
        const primary = input.accountKey
          ? await loadAccount(sql, input.accountKey)
          : await accountForCompany(sql, input.companyId, input.channel);
        if (primary.channel !== input.channel) {
          throw new UnknownAccountError(
            `account ${primary.key} sends ${primary.channel}, not ${input.channel}`,
          );
        }
        const fallback = primary.fallbackKey ? await loadAccount(sql, primary.fallbackKey) : undefined;
        const { heartbeatTimeoutMs } = providers;
        return {
          primary: routeOf(primary, heartbeatTimeoutMs),
          fallback: fallback?.active ? routeOf(fallback, heartbeatTimeoutMs) : undefined,
        };
      } catch (err) {
        permanent(err);
      }
    },

    async selectDueMessages(input: DueSelection): Promise<number[]> {
      if (input.afterId === 0 && (await refreshMessageStats(sql)))
        log.info('analyzed messages before dispatching: its statistics were stale');
      return selectDueMessageIds(sql, input);
    },

    /** Runs on the account's own task queue, where Temporal caps batches per second across workers. */
    async sendMessageBatch(input: BatchRef): Promise<BatchCounts> {
      try {
        const counts = await sendBatch(leased(), input);
        log.debug({ companyId: input.companyId, account: input.accountKey, ...counts }, 'batch sent');
        return counts;
      } catch (err) {
        if (err instanceof BatchIncomplete) {
          throw ApplicationFailure.create({
            message: err.message,
            type: err.reason === 'throttled' ? 'ProviderThrottled' : 'ProviderUnavailable',
            details: [err.counts],
            nextRetryDelay: err.retryAfterMs,
          });
        }
        permanent(err);
      }
    },

    /** Batches whose messages sit in 'sending' or 'unknown' with no attempt alive to settle them. */
    async findStrandedSends(input: {
      limit: number;
    }): Promise<{ batches: StrandedBatch[]; heartbeatTimeoutMs: number }> {
      const batches = await findStrandedBatches(sql, {
        limit: input.limit,
        canLookUp: (key) => accountCanLookUp({ sql, providers }, key),
      });
      return { batches, heartbeatTimeoutMs: providers.heartbeatTimeoutMs };
    },

    /** Runs on the account's send queue: reconciles one stranded batch under its lease (never resends). */
    async sweepStrandedSends(input: StrandedBatch): Promise<SweepResult> {
      try {
        const result = await sweepBatch(leased(), input);
        if (result.sent || result.rescheduled)
          log.info(
            { companyId: input.companyId, account: input.accountKey, ...result },
            'swept a stranded batch',
          );
        return result;
      } catch (err) {
        permanent(err);
      }
    },

    /** After a batch exhausted its retries: reconcile what it left behind; returns ids safe for the fallback. */
    async settleMessageBatch(input: BatchRef): Promise<SettledBatch> {
      try {
        return await settleBatch(leased(), input);
      } catch (err) {
        permanent(err);
      }
    },
  };
}
