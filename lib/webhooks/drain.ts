// The outbox drainer's pass: claims deliveries the triggers recorded, makes each one's first attempt itself, and hands retries to workflows.
import type { Client } from '@temporalio/client';
import type { Sql } from '../db';
import type { SecretEnv } from '../sources/secrets';
import { postDelivery, recordAttempts, type DeliveryToSend } from './deliver';
import { startDeliveryWorkflow } from './enqueue';

/** Requests in flight at once in one pass: a local receiver answers in a millisecond, a slow one holds a slot. */
const CONCURRENCY = 64;
/** What a drainer that died mid-attempt left unanswered says. */
const UNANSWERED = 'no answer recorded: the drainer stopped during the attempt';

export interface DrainCounts {
  /** deliveries this pass took from the outbox */
  claimed: number;
  delivered: number;
  failed: number;
  /** handed to a deliverWebhook workflow for their retries */
  retrying: number;
  /** first attempts the pass's cancellation cut short: their claims given up, the next pass hands them on */
  cancelled: number;
}

interface Claimed extends DeliveryToSend {
  /**
   * the claim's end, in Postgres' text (to the microsecond, which a Date would drop): it marks the
   * claim, a later claim of the row sets another
   */
  lease: string;
  /** attempts made before this claim: 0 for a first attempt */
  attempts_before: number;
  max_attempts: number;
  retry_initial_ms: number;
  timeout_ms: number;
}

/**
 * One pass over up to `limit` deliveries that no workflow has, oldest first. They are claimed for as
 * long as the pass's attempts may take (`lease_until`), so drainers running at once take different rows. A
 * first attempt is made here and recorded when it starts, then with its answer; a delivery to retry
 * goes to its deliverWebhook workflow (id from its uuid), which makes the rest with the endpoint's
 * policy. A claim whose drainer died before recording is taken up again after its lease, and then
 * only by a workflow: a delivery is attempted inline once at the most. `cancelled` (the drainer
 * activity's cancellation) cuts the first attempts short; they are recorded as cancelled and their
 * claims end at once, so the next pass hands them to workflows as it does a dead drainer's.
 */
export async function drainWebhookOutbox(
  deps: { sql: Sql; client: Client; taskQueue: string; secrets: SecretEnv },
  opts: { limit: number; cancelled?: AbortSignal },
): Promise<DrainCounts> {
  const { sql, client, taskQueue } = deps;
  const claimed = await sql<Claimed[]>`
    with claimable as (
      select d.id, d.attempts, e.timeout_ms from webhook_deliveries d
      join webhook_endpoints e on e.id = d.endpoint_id
      where d.workflow_id is null
        and (d.status = 'pending' or (d.status = 'delivering' and d.lease_until < now()))
      order by d.id
      limit ${opts.limit}
      for update of d skip locked
    ),
    -- held for the whole pass: its POSTs go CONCURRENCY at a time, each cut at its endpoint's timeout
    -- (the wait for a socket included), so a slow endpoint's last round still ends inside the lease
    lease as (
      select now() + (max(timeout_ms) * ceil(count(*) / ${CONCURRENCY}::numeric) + 30000) * interval '1 millisecond' as until
      from claimable
    ),
    claimed as (
      update webhook_deliveries d
      set status = 'delivering', lease_until = l.until,
          attempts = greatest(d.attempts, 1), first_attempt_at = coalesce(d.first_attempt_at, now()),
          last_attempt_at = case when c.attempts = 0 then now() else d.last_attempt_at end
      from claimable c, lease l, webhook_endpoints e, companies co
      where d.id = c.id and e.id = d.endpoint_id and co.id = d.company_id
      returning d.id, d.uuid, d.company_id, d.event, d.payload, d.created_at, l.until::text as lease, e.url, e.secret_env, e.active,
                co.alias, c.attempts as attempts_before, e.max_attempts, e.retry_initial_ms, e.timeout_ms
    ),
    started as (
      insert into webhook_attempts (delivery_id, company_id, attempt, started_at, duration_ms, error, outcome)
      select id, company_id, 1, now(), 0, ${UNANSWERED}, 'unknown' from claimed where attempts_before = 0
    )
    select * from claimed order by id`;
  const counts: DrainCounts = { claimed: claimed.length, delivered: 0, failed: 0, retrying: 0, cancelled: 0 };
  const first = claimed.filter((d) => d.attempts_before === 0);
  // once cancelled, the attempts not yet started fail at once, unsent, and are recorded the same way
  const attempts = await inTurn(first, CONCURRENCY, (d) =>
    postDelivery(d, 1, d.timeout_ms, deps.secrets, opts.cancelled),
  );
  const byId = new Map(claimed.map((d) => [d.id, d]));
  const recorded = attempts.map((a) => {
    const d = byId.get(a.deliveryId)!;
    const status =
      a.outcome === 'delivered'
        ? ('delivered' as const)
        : a.outcome === 'retry' && d.max_attempts > 1
          ? ('delivering' as const)
          : ('failed' as const);
    return { ...a, status };
  });
  await recordAttempts(sql, recorded);
  counts.delivered = recorded.filter((r) => r.status === 'delivered').length;
  counts.failed = recorded.filter((r) => r.status === 'failed').length;

  // cut short: nothing of this pass is in flight for them any more, so their claims end now (unless
  // a later claim took them over) and the next pass gives each to its workflow; the cancelled
  // activity starts no workflows of its own for them
  const cut = recorded
    .filter((r) => r.cancelled && r.status === 'delivering')
    .map((r) => byId.get(r.deliveryId)!);
  counts.cancelled = cut.length;
  if (cut.length)
    await sql`
      update webhook_deliveries set lease_until = now()
      where id in ${sql(cut.map((d) => d.id))} and status = 'delivering' and workflow_id is null
        and lease_until = ${cut[0]!.lease}::text::timestamptz`;

  // taken up again after a drainer died: retried by a workflow while attempts are left
  const unanswered = claimed.filter((d) => d.attempts_before > 0);
  const spent = unanswered.filter((d) => d.attempts_before >= d.max_attempts).map((d) => d.id);
  if (spent.length) {
    await sql`
      update webhook_deliveries set status = 'failed', last_error = coalesce(last_error, ${UNANSWERED})
      where id in ${sql(spent)} and status = 'delivering'`;
    counts.failed += spent.length;
  }
  // retries: a workflow each, after the endpoint's first interval (or what Retry-After asked)
  const retries = [
    ...recorded
      .filter((r) => r.status === 'delivering' && !r.cancelled)
      .map((r) => ({ d: byId.get(r.deliveryId)!, made: 1, wait: r.retryAfterMs })),
    ...unanswered
      .filter((d) => d.attempts_before < d.max_attempts)
      .map((d) => ({ d, made: d.attempts_before, wait: undefined })),
  ];
  counts.retrying = retries.length;
  await Promise.all(
    retries.map(({ d, made, wait }) =>
      startDeliveryWorkflow(sql, client, taskQueue, {
        uuid: d.uuid,
        event: d.event,
        url: d.url,
        alias: d.alias,
        max_attempts: d.max_attempts,
        retry_initial_ms: d.retry_initial_ms,
        timeout_ms: d.timeout_ms,
        retry: { attemptsMade: made, firstRetryInMs: wait },
      }),
    ),
  );
  return counts;
}

/** `fn` over `items` with at most `limit` running at once; results in the items' order. */
async function inTurn<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
