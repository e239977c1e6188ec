// Delivery attempts: sign a stored event and POST it, and record attempts (one or a drainer's batch) with their deliveries' new states.
import { STATUS_CODES } from 'node:http';
import { Agent, request } from 'undici';
import type { Sql } from '../db';
import { MissingSecretError, readSecret, SecretNotAllowedError, type SecretEnv } from '../sources/secrets';
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
  /** the activity's cancellation cut the request short (or came before it was sent) */
  cancelled?: boolean;
}

/** One attempt as it is recorded: its delivery, number, timing and answer. */
export interface Attempt extends AttemptResult {
  deliveryId: number;
  companyId: number;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  /** the first 1,000 characters of the answer */
  responseBody?: string;
}

/** 2xx delivered; 408, 429 and 5xx (and no answer) retried; any other answer is final. */
export function classifyStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'permanent';
}

function retryAfter(header: string | string[] | undefined): number | undefined {
  if (Array.isArray(header)) header = header[0];
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 3600) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.min(at - Date.now(), 3_600_000));
}

/**
 * Keep-alive connections shared by every attempt of this process. undici's `request` rather than
 * `fetch`: measured against a local receiver, fetch spent 550-950 µs of CPU on each POST and
 * `request` 100-170 µs, which is the difference between a drainer held to a few hundred a second
 * on two cores and one that keeps up with dispatch (bench:webhook-drain).
 */
const connections = new Agent({ connections: 64 });

/** A stored delivery with what sending it needs of its endpoint and company. */
export interface DeliveryToSend {
  id: number;
  uuid: string;
  company_id: number;
  event: WebhookEvent;
  payload: Record<string, unknown>;
  created_at: Date;
  url: string;
  secret_env: string;
  active: boolean;
  alias: string;
}

/**
 * Signs the stored event and POSTs it once; never throws. No answer is a retry; a disabled endpoint or
 * a signing secret missing on this worker is final, and nothing is sent. `cancelled`: the activity's
 * cancellation, which cuts the request short (recorded as such).
 */
export async function postDelivery(
  d: DeliveryToSend,
  attempt: number,
  timeoutMs: number,
  secrets: SecretEnv,
  cancelled?: AbortSignal,
): Promise<Attempt> {
  const startedAt = new Date();
  const done = (r: AttemptResult & { responseBody?: string }): Attempt => ({
    ...r,
    deliveryId: d.id,
    companyId: d.company_id,
    attempt,
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
  });
  if (!d.active) return done({ outcome: 'permanent', statusCode: null, error: 'the endpoint is disabled' });
  let secret: string;
  try {
    secret = readSecret(d.secret_env, `the webhook secret of ${d.url}`, secrets);
  } catch (err) {
    if (!(err instanceof MissingSecretError || err instanceof SecretNotAllowedError)) throw err;
    return done({ outcome: 'permanent', statusCode: null, error: err.message });
  }
  const body = webhookBody({
    id: d.uuid,
    event: d.event,
    company: d.alias,
    created_at: d.created_at.toISOString(),
    data: d.payload,
  });
  try {
    const response = await request(d.url, {
      method: 'POST',
      body,
      // undici's request never follows a redirect: a 3xx is final like any other answer, so a signed body never lands somewhere unexpected
      dispatcher: connections,
      signal: cancelled
        ? AbortSignal.any([AbortSignal.timeout(timeoutMs), cancelled])
        : AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'herald-webhooks/1',
        'x-herald-event': d.event,
        'x-herald-delivery': d.uuid,
        [SIGNATURE_HEADER.toLowerCase()]: signWebhook(body, secret),
      },
    });
    const text = (await response.body.text().catch(() => '')).slice(0, 1000);
    const status = response.statusCode;
    const outcome = classifyStatus(status);
    return done({
      outcome,
      statusCode: status,
      error:
        outcome === 'delivered'
          ? null
          : `the endpoint answered ${status} ${STATUS_CODES[status] ?? ''}`.trim(),
      retryAfterMs: outcome === 'retry' ? retryAfter(response.headers['retry-after']) : undefined,
      responseBody: text,
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (cancelled?.aborted)
      return done({
        outcome: 'retry',
        statusCode: null,
        error: 'cancelled before the endpoint answered',
        cancelled: true,
      });
    const reason =
      e.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`;
    return done({ outcome: 'retry', statusCode: null, error: reason });
  }
}

/** Where a delivery stands after an attempt: done, failed, or still being delivered (retries to come). */
export type DeliveryStatus = 'delivered' | 'failed' | 'delivering';

/**
 * Records attempts and their deliveries' new statuses in one statement; an attempt recorded when it
 * started (as 'unknown') gets its answer. A delivery moves only with its latest attempt's answer or a
 * 2xx, and never away from delivered, so an answer that arrives late undoes nothing. An answer of
 * 410 Gone switches the endpoint off: the receiver says it no longer exists, so nothing more is sent to it.
 */
export async function recordAttempts(
  sql: Sql,
  attempts: readonly (Attempt & { status: DeliveryStatus })[],
): Promise<void> {
  if (!attempts.length) return;
  const column = <T>(pick: (a: Attempt & { status: DeliveryStatus }) => T) =>
    sql.array(attempts.map(pick) as never);
  await sql`
    with r as (
      select * from unnest(${column((a) => a.deliveryId)}::bigint[], ${column((a) => a.companyId)}::bigint[],
                           ${column((a) => a.attempt)}::int[], ${column((a) => a.startedAt.toISOString())}::timestamptz[],
                           ${column((a) => a.durationMs)}::int[], ${column((a) => a.statusCode)}::int[],
                           ${column((a) => a.responseBody ?? null)}::text[], ${column((a) => a.error)}::text[],
                           ${column((a) => a.outcome)}::text[], ${column((a) => a.status)}::text[])
        as r(delivery_id, company_id, attempt, started_at, duration_ms, status_code, response_body, error, outcome, status)
    ),
    recorded as (
      insert into webhook_attempts (delivery_id, company_id, attempt, started_at, duration_ms, status_code, response_body, error, outcome)
      select delivery_id, company_id, attempt, started_at, duration_ms, status_code, response_body, error, outcome from r
      on conflict (delivery_id, attempt) do update
        set started_at = excluded.started_at, duration_ms = excluded.duration_ms, status_code = excluded.status_code,
            response_body = excluded.response_body, error = excluded.error, outcome = excluded.outcome
    ),
    moved as (
      -- an answer that comes after a later attempt's (an attempt outlived its claim and a workflow
      -- went on) is kept in webhook_attempts but does not undo what the later one recorded; a 2xx from
      -- any attempt means delivered, and nothing moves a delivered delivery back
      update webhook_deliveries d
      set status = r.status, attempts = greatest(d.attempts, r.attempt),
          last_status_code = r.status_code, last_error = r.error, last_duration_ms = r.duration_ms,
          first_attempt_at = coalesce(d.first_attempt_at, r.started_at), last_attempt_at = r.started_at,
          delivered_at = case when r.status = 'delivered' then r.started_at end
      from r where d.id = r.delivery_id and d.company_id = r.company_id and d.status <> 'delivered'
        and (r.attempt >= d.attempts or r.status = 'delivered')
    ),
    gone as (
      select d.endpoint_id, min(r.started_at) as at
      from r join webhook_deliveries d on d.id = r.delivery_id and d.company_id = r.company_id
      where r.status_code = 410 group by d.endpoint_id
    )
    update webhook_endpoints e
    set active = false, disabled_reason = 'answered 410 Gone at ' || to_char(g.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    from gone g
    where e.id = g.endpoint_id and e.active`;
}

/**
 * The `sendWebhook` activity's attempt: the stored delivery (already delivered: nothing sent), one
 * POST, recorded. `attempt` counts every attempt of the delivery, the drainer's first included;
 * `cancelled` cuts the request short.
 */
export async function attemptDelivery(
  sql: Sql,
  input: { deliveryId: string; attempt: number; timeoutMs: number },
  secrets: SecretEnv,
  cancelled?: AbortSignal,
): Promise<AttemptResult> {
  const [d] = await sql<(DeliveryToSend & { status: string })[]>`
    select d.id, d.uuid, d.company_id, d.event, d.payload, d.status, d.created_at, e.url, e.secret_env, e.active, c.alias
    from webhook_deliveries d
    join webhook_endpoints e on e.id = d.endpoint_id
    join companies c on c.id = d.company_id
    where d.uuid = ${input.deliveryId}`;
  if (!d) return { outcome: 'permanent', statusCode: null, error: `no webhook delivery ${input.deliveryId}` };
  if (d.status === 'delivered') return { outcome: 'delivered', statusCode: null, error: null };
  const attempt = await postDelivery(d, input.attempt, input.timeoutMs, secrets, cancelled);
  const status =
    attempt.outcome === 'delivered' ? 'delivered' : attempt.outcome === 'permanent' ? 'failed' : 'delivering';
  await recordAttempts(sql, [{ ...attempt, status }]);
  return attempt;
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
