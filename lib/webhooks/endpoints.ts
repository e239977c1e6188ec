// A company's webhook endpoints and the record of their deliveries, as operators add and read them.
import type { Sql } from '../db';
import { withActor } from '../db';
import { isWebhookEvent, WEBHOOK_EVENTS } from './events';

export interface EndpointRow {
  uuid: string;
  company: string;
  url: string;
  events: string[];
  secret_env: string;
  max_attempts: number;
  active: boolean;
  disabled_reason: string | null;
  created_at: Date;
}

export class WebhookSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookSetupError';
  }
}

export async function addEndpoint(
  sql: Sql,
  actor: string,
  input: {
    companyAlias: string;
    url: string;
    secretEnv: string;
    events: string[];
    maxAttempts?: number;
    description?: string;
  },
): Promise<EndpointRow> {
  const unknown = input.events.filter((e) => !isWebhookEvent(e));
  if (unknown.length)
    throw new WebhookSetupError(
      `unknown event(s) ${unknown.join(', ')}; herald sends ${WEBHOOK_EVENTS.join(', ')}`,
    );
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new WebhookSetupError(`"${input.url}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new WebhookSetupError('the URL must be http(s)');
  if (!/^[A-Z][A-Z0-9_]{2,100}$/.test(input.secretEnv)) {
    throw new WebhookSetupError(
      '--secret-env must name an environment variable (upper case, digits, _), e.g. WEBHOOK_SECRET_ACME',
    );
  }
  const [company] = await sql<{ id: number }[]>`select id from companies where alias = ${input.companyAlias}`;
  if (!company) throw new WebhookSetupError(`no company has the alias "${input.companyAlias}"`);
  return withActor(sql, actor, async (tx) => {
    const [row] = await tx<EndpointRow[]>`
      insert into webhook_endpoints (company_id, url, description, events, secret_env, max_attempts)
      values (${company.id}, ${url.toString()}, ${input.description ?? null}, ${input.events}, ${input.secretEnv}, ${input.maxAttempts ?? 12})
      on conflict (company_id, url) do update
        set events = excluded.events, secret_env = excluded.secret_env, max_attempts = excluded.max_attempts,
            description = coalesce(excluded.description, webhook_endpoints.description), active = true, disabled_reason = null
      returning uuid, ${input.companyAlias}::text as company, url, events, secret_env, max_attempts, active, disabled_reason, created_at`;
    return row!;
  });
}

export async function listEndpoints(sql: Sql, companyAlias?: string): Promise<EndpointRow[]> {
  return sql<EndpointRow[]>`
    select e.uuid, c.alias as company, e.url, e.events, e.secret_env, e.max_attempts, e.active, e.disabled_reason, e.created_at
    from webhook_endpoints e join companies c on c.id = e.company_id
    where ${companyAlias ?? null}::text is null or c.alias = ${companyAlias ?? null}
    order by c.alias, e.id`;
}

export interface DeliveryRow {
  uuid: string;
  company: string;
  url: string;
  event: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  created_at: Date;
  delivered_at: Date | null;
}

export async function listDeliveries(
  sql: Sql,
  opts: { companyAlias?: string; status?: string; limit: number },
): Promise<DeliveryRow[]> {
  return sql<DeliveryRow[]>`
    select d.uuid, c.alias as company, e.url, d.event, d.status, d.attempts, d.last_status_code, d.last_error,
           d.last_duration_ms, d.created_at, d.delivered_at
    from webhook_deliveries d
    join webhook_endpoints e on e.id = d.endpoint_id
    join companies c on c.id = d.company_id
    where (${opts.companyAlias ?? null}::text is null or c.alias = ${opts.companyAlias ?? null})
      and (${opts.status ?? null}::text is null or d.status = ${opts.status ?? null})
    order by d.id desc
    limit ${opts.limit}`;
}
