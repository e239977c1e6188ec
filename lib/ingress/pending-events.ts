// Status callbacks that overtook dispatch's write of the provider id: kept, then applied once when a message has that id.
import type { Sql, TransactionSql } from '../db';
import type { Logger } from '../log';
import type { ProviderEvent } from '../providers/types';
import { applyToArchived } from './archived-events';
import { applyToMessage, findMessage } from './provider-events';

/** NOTIFY channel of migration 0031's trigger: a provider id that waiting events name was recorded. */
export const PENDING_EVENTS_CHANNEL = 'herald_provider_events';
/** An event no message ever claims (another system's id, a message never recorded) is dropped after this. */
const PENDING_EVENT_DAYS = 7;
const BATCH = 200;

export interface PendingEventInput {
  providers: readonly string[];
  recordAs: string;
  event: ProviderEvent;
  /** our message uuid the callback carried (?m=): a reconciliation reads the vendor's id by it */
  ownId?: string;
}

/** Keeps the event until its message is known; false when the same event is already waiting. */
export async function keepPendingEvent(tx: TransactionSql, opts: PendingEventInput): Promise<boolean> {
  const kept = await tx`
    insert into provider_events_pending (provider, provider_event_id, provider_message_id, providers, event, message_uuid)
    values (${opts.recordAs}, ${opts.event.eventId}, ${opts.event.providerMessageId}, ${tx.array(opts.providers as string[])},
            ${tx.json(opts.event as never)}, ${opts.ownId ?? null})
    on conflict (provider, provider_event_id) do nothing
    returning id`;
  return kept.length > 0;
}

export interface PendingSweep {
  applied: number;
  /** already recorded when it arrived a second time after the message was known */
  duplicates: number;
  /** waited longer than a week for a message and were dropped */
  dropped: number;
}

interface PendingRow {
  id: number;
  provider: string;
  providers: string[];
  event: ProviderEvent;
}

/**
 * Applies waiting events whose message now exists (live or archived), in the order they arrived,
 * each in the transaction that deletes it: applied exactly once however many sweeps run at once.
 * `providerMessageId` limits the sweep to one message's events.
 */
export async function applyPendingEvents(
  sql: Sql,
  opts: { providerMessageId?: string } = {},
): Promise<PendingSweep> {
  const sweep: PendingSweep = { applied: 0, duplicates: 0, dropped: 0 };
  const only = opts.providerMessageId;
  for (;;) {
    const n = (await sql.begin(async (t) => {
      const tx = t as TransactionSql;
      const rows = await tx<PendingRow[]>`
        select p.id, p.provider, p.providers, p.event from provider_events_pending p
        where ${only === undefined ? tx`true` : tx`p.provider_message_id = ${only}`}
          and (exists (select 1 from messages m
                       where m.provider = any(p.providers) and m.provider_message_id = p.provider_message_id)
               or exists (select 1 from messages_history h
                          where h.provider = any(p.providers) and h.provider_message_id = p.provider_message_id))
        order by p.id
        limit ${BATCH}
        for update of p skip locked`;
      for (const row of rows) {
        const input = { providers: row.providers, recordAs: row.provider, event: row.event };
        const message = await findMessage(tx, row.providers, row.event.providerMessageId);
        const outcome = message ? await applyToMessage(tx, message, input) : await applyToArchived(tx, input);
        if (outcome?.kind === 'duplicate' || (outcome?.kind === 'archived' && outcome.duplicate))
          sweep.duplicates++;
        else sweep.applied++;
        await tx`delete from provider_events_pending where id = ${row.id}`;
      }
      return rows.length;
    })) as number;
    if (n < BATCH) break;
  }
  if (only === undefined) {
    const dropped = await sql`
      delete from provider_events_pending where received_at < now() - make_interval(days => ${PENDING_EVENT_DAYS})`;
    sweep.dropped = dropped.count;
  }
  return sweep;
}

export interface PendingWatch {
  close(): Promise<void>;
}

/**
 * Applies waiting events when dispatch records their provider id (LISTEN), and sweeps every
 * `sweepMs` for a notice nobody heard (the ingress was down, a race at the commit). One sweep at a time.
 */
export async function watchPendingEvents(
  sql: Sql,
  log: Logger,
  opts: { sweepMs: number },
): Promise<PendingWatch> {
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const run = (providerMessageId?: string) => {
    running = running.then(async () => {
      if (closed) return;
      try {
        const sweep = await applyPendingEvents(sql, { providerMessageId });
        if (sweep.applied || sweep.duplicates || sweep.dropped)
          log.info(sweep, 'applied status callbacks that had waited for their message');
      } catch (err) {
        log.error({ err }, 'applying waiting status callbacks failed; the next sweep tries again');
      }
    });
  };
  // onlisten fires at the first LISTEN and after every reconnect: a sweep then catches notices sent while deaf
  const listening = await sql.listen(
    PENDING_EVENTS_CHANNEL,
    (providerMessageId) => run(providerMessageId),
    () => run(),
  );
  const timer = setInterval(() => run(), opts.sweepMs);
  timer.unref();
  return {
    async close() {
      closed = true;
      clearInterval(timer);
      await listening.unlisten();
      await running;
    },
  };
}
