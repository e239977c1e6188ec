// One delivery attempt: signs the stored event, POSTs it, records the attempt and says whether to retry.
import type { Sql } from '../db';
import { readSecret } from '../sources/secrets';
import { webhookBody, type WebhookEvent } from './events';
import { SIGNATURE_HEADER, signWebhook } from './signature';

export type AttemptOutcome = 'delivered' | 'retry' | 'permanent';

export interface AttemptResult {
  outcome: AttemptOutcome;
  statusCode: number | null;
  /** what went wrong, for the operator (and the activity failure) */
  error: string | null;
  /** a 429 or 503 that said when to come back */
  retryAfterMs?: number;
}

/** 2xx delivered; 408, 429 and 5xx (and no answer) retried; any other answer is final. */
export function classifyStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'permanent';
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 3600) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.min(at - Date.now(), 3_600_000));
}

interface DeliveryRow {
  id: number;
  uuid: string;
  company_id: number;
  event: WebhookEvent;
  payload: Record<string, unknown>;
  status: string;
  created_at: Date;
  url: string;
  secret_env: string;
  active: boolean;
  alias: string;
}

/** `cancelled`: the activity's cancellation, which cuts the request short (recorded as such). */
export async function attemptDelivery(
  sql: Sql,
  input: { deliveryId: string; attempt: number; timeoutMs: number },
  cancelled?: AbortSignal,
): Promise<AttemptResult> {
  const [d] = await sql<DeliveryRow[]>`
    select d.id, d.uuid, d.company_id, d.event, d.payload, d.status, d.created_at, e.url, e.secret_env, e.active, c.alias
    from webhook_deliveries d
    join webhook_endpoints e on e.id = d.endpoint_id
    join companies c on c.id = d.company_id
    where d.uuid = ${input.deliveryId}`;
  if (!d) return { outcome: 'permanent', statusCode: null, error: `no webhook delivery ${input.deliveryId}` };
  if (d.status === 'delivered') return { outcome: 'delivered', statusCode: null, error: null };
  if (!d.active)
    return record(sql, d, input.attempt, new Date(), 0, {
      outcome: 'permanent',
      statusCode: null,
      error: 'the endpoint is disabled',
    });

  const secret = readSecret(d.secret_env, `the webhook secret of ${d.url}`);
  const body = webhookBody({
    id: d.uuid,
    event: d.event,
    company: d.alias,
    created_at: d.created_at.toISOString(),
    data: d.payload,
  });
  const started = new Date();
  let result: AttemptResult & { responseBody?: string };
  try {
    const response = await fetch(d.url, {
      method: 'POST',
      body,
      // a redirect is answered like any other 3xx: final, so a signed body never lands somewhere unexpected
      redirect: 'manual',
      signal: cancelled
        ? AbortSignal.any([AbortSignal.timeout(input.timeoutMs), cancelled])
        : AbortSignal.timeout(input.timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'herald-webhooks/1',
        'x-herald-event': d.event,
        'x-herald-delivery': d.uuid,
        [SIGNATURE_HEADER.toLowerCase()]: signWebhook(body, secret),
      },
    });
    const text = (await response.text().catch(() => '')).slice(0, 1000);
    const outcome = classifyStatus(response.status);
    result = {
      outcome,
      statusCode: response.status,
      error:
        outcome === 'delivered'
          ? null
          : `the endpoint answered ${response.status} ${response.statusText}`.trim(),
      retryAfterMs: outcome === 'retry' ? retryAfter(response.headers.get('retry-after')) : undefined,
      responseBody: text,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const reason = cancelled?.aborted
      ? 'cancelled before the endpoint answered'
      : e.name === 'TimeoutError'
        ? `no answer within ${input.timeoutMs} ms`
        : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`;
    result = { outcome: 'retry', statusCode: null, error: reason };
  }
  return record(sql, d, input.attempt, started, Date.now() - started.getTime(), result);
}

async function record(
  sql: Sql,
  d: DeliveryRow,
  attempt: number,
  started: Date,
  durationMs: number,
  r: AttemptResult & { responseBody?: string },
): Promise<AttemptResult> {
  await sql.begin(async (tx) => {
    await tx`
      insert into webhook_attempts (delivery_id, company_id, attempt, started_at, duration_ms, status_code, response_body, error, outcome)
      values (${d.id}, ${d.company_id}, ${attempt}, ${started}, ${durationMs}, ${r.statusCode}, ${r.responseBody ?? null}, ${r.error}, ${r.outcome})
      on conflict (delivery_id, attempt) do update
        set started_at = excluded.started_at, duration_ms = excluded.duration_ms, status_code = excluded.status_code,
            response_body = excluded.response_body, error = excluded.error, outcome = excluded.outcome`;
    await tx`
      update webhook_deliveries
      set status = ${r.outcome === 'delivered' ? 'delivered' : r.outcome === 'permanent' ? 'failed' : 'delivering'},
          attempts = greatest(attempts, ${attempt}),
          last_status_code = ${r.statusCode}, last_error = ${r.error}, last_duration_ms = ${durationMs},
          first_attempt_at = coalesce(first_attempt_at, ${started}), last_attempt_at = ${started},
          delivered_at = ${r.outcome === 'delivered' ? started : null}
      where id = ${d.id}`;
    if (r.statusCode === 410) {
      // 410 Gone: the receiver says the endpoint no longer exists; nothing more is sent to it
      await tx`
        update webhook_endpoints set active = false, disabled_reason = ${`answered 410 Gone at ${started.toISOString()}`}
        where id = (select endpoint_id from webhook_deliveries where id = ${d.id})`;
    }
  });
  return r;
}

/** After the last retry: the delivery is failed, with the last reason kept. */
export async function markDeliveryFailed(
  sql: Sql,
  input: { deliveryId: string; reason: string },
): Promise<void> {
  await sql`
    update webhook_deliveries set status = 'failed', last_error = coalesce(last_error, ${input.reason})
    where uuid = ${input.deliveryId} and status <> 'delivered'`;
}
