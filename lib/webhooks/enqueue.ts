// notifyCompany: records one delivery per matching endpoint of the company and starts its delivery workflow; the retry workflows the drainer starts.
import { createHash, randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Sql } from '../db';
import { SA, TASK_QUEUES, WORKFLOW_IDS } from '../names';
import { deliverWebhook } from '../../workflows/deliver-webhook';
import { isWebhookEvent, type WebhookEvent } from './events';

export interface NotifyCompanyInput {
  companyId: number;
  event: WebhookEvent;
  /** the event's data (ids, counts, states); no more personal data than the company needs */
  payload: Record<string, unknown>;
  /** the business key that makes a repeat of the same event a no-op (default: event + payload hash) */
  eventKey?: string;
}

export interface QueuedDelivery {
  deliveryId: string;
  endpointUrl: string;
  workflowId: string;
  /** false when this event was already queued for the endpoint */
  created: boolean;
}

export class UnknownWebhookEventError extends Error {
  constructor(event: string) {
    super(`"${event}" is not a webhook event herald sends`);
    this.name = 'UnknownWebhookEventError';
  }
}

export async function notifyCompany(
  deps: { sql: Sql; client: Client; taskQueue?: string },
  input: NotifyCompanyInput,
): Promise<QueuedDelivery[]> {
  const { sql, client } = deps;
  if (!isWebhookEvent(input.event)) throw new UnknownWebhookEventError(input.event);
  const eventKey =
    input.eventKey ??
    `${input.event}:${createHash('sha256').update(JSON.stringify(input.payload)).digest('hex')}`;
  const endpoints = await sql<(Omit<DeliveryToStart, 'uuid' | 'event'> & { id: number })[]>`
    select e.id, e.url, c.alias, e.max_attempts, e.retry_initial_ms, e.timeout_ms
    from webhook_endpoints e join companies c on c.id = e.company_id
    where e.company_id = ${input.companyId} and e.active
      and herald_webhook_wants(e.events, ${input.event})
    order by e.id`;
  const queued: QueuedDelivery[] = [];
  for (const endpoint of endpoints) {
    // its workflow id is noted as it is recorded, so the outbox drainer never attempts it too
    const uuid = randomUUID();
    const [inserted] = await sql<{ uuid: string }[]>`
      insert into webhook_deliveries (uuid, endpoint_id, company_id, event, event_key, payload, workflow_id)
      values (${uuid}, ${endpoint.id}, ${input.companyId}, ${input.event}, ${eventKey}, ${sql.json(input.payload as never)},
              ${WORKFLOW_IDS.webhookDelivery(uuid)})
      on conflict (endpoint_id, event_key) do nothing
      returning uuid`;
    const [delivery] = inserted
      ? [{ uuid: inserted.uuid, status: 'pending' }]
      : await sql<{ uuid: string; status: string }[]>`
          select uuid, status from webhook_deliveries where endpoint_id = ${endpoint.id} and event_key = ${eventKey}`;
    const workflowId = WORKFLOW_IDS.webhookDelivery(delivery!.uuid);
    if (delivery!.status === 'pending' || delivery!.status === 'delivering') {
      await startDeliveryWorkflow(sql, client, deps.taskQueue ?? TASK_QUEUES.pipeline, {
        ...endpoint,
        uuid: delivery!.uuid,
        event: input.event,
      });
    }
    queued.push({
      deliveryId: delivery!.uuid,
      endpointUrl: endpoint.url,
      workflowId,
      created: Boolean(inserted),
    });
  }
  return queued;
}

/** What starting a delivery's workflow needs: the delivery and its endpoint's retry policy. */
export interface DeliveryToStart {
  uuid: string;
  event: string;
  url: string;
  alias: string;
  max_attempts: number;
  retry_initial_ms: number;
  timeout_ms: number;
  /** the outbox drainer made the first attempts: the workflow makes the rest, after this wait */
  retry?: { attemptsMade: number; firstRetryInMs?: number };
}

/**
 * Starts the delivery's workflow (its id derived from the delivery's uuid, so a second start joins the
 * first and a finished one is never restarted) and notes the workflow id on the delivery.
 */
export async function startDeliveryWorkflow(
  sql: Sql,
  client: Client,
  taskQueue: string,
  d: DeliveryToStart,
): Promise<string> {
  const workflowId = WORKFLOW_IDS.webhookDelivery(d.uuid);
  try {
    await client.workflow.start(deliverWebhook, {
      taskQueue,
      workflowId,
      args: [
        {
          deliveryId: d.uuid,
          maxAttempts: d.max_attempts,
          initialIntervalMs: d.retry_initial_ms,
          timeoutMs: d.timeout_ms,
          ...d.retry,
        },
      ],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: SA.CompanyAlias, value: d.alias }],
      staticSummary: `Webhook ${d.event} to ${new URL(d.url).host}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  await sql`update webhook_deliveries set workflow_id = ${workflowId} where uuid = ${d.uuid} and workflow_id is null`;
  return workflowId;
}
