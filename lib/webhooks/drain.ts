// The outbox drainer: starts a deliverWebhook workflow for each delivery the database's triggers recorded.
import type { Client } from '@temporalio/client';
import type { Sql } from '../db';
import { startDeliveryWorkflow, type DeliveryToStart } from './enqueue';

/** Workflow starts in flight at once: enough to keep up with a dispatch burst, few enough for a small server. */
const START_CONCURRENCY = 64;

/**
 * Starts the workflows of up to `limit` deliveries that have none yet, oldest first; returns how many.
 * Safe to run twice at once or after a crash: a delivery's workflow id comes from its uuid.
 */
export async function drainWebhookOutbox(
  deps: { sql: Sql; client: Client; taskQueue: string },
  opts: { limit: number },
): Promise<number> {
  const { sql, client, taskQueue } = deps;
  const rows = await sql<DeliveryToStart[]>`
    select d.uuid, d.event, e.url, c.alias, e.max_attempts, e.retry_initial_ms, e.timeout_ms
    from webhook_deliveries d
    join webhook_endpoints e on e.id = d.endpoint_id
    join companies c on c.id = d.company_id
    where d.workflow_id is null and d.status = 'pending'
    order by d.id
    limit ${opts.limit}`;
  for (let i = 0; i < rows.length; i += START_CONCURRENCY) {
    await Promise.all(
      rows.slice(i, i + START_CONCURRENCY).map((d) => startDeliveryWorkflow(sql, client, taskQueue, d)),
    );
  }
  return rows.length;
}
