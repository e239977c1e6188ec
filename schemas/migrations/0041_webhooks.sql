-- Outbound webhooks to companies: endpoints, one delivery per endpoint and event, every attempt.

-- The HMAC key must be recoverable to sign, so it is not stored hashed; like every other secret in
-- herald (ingest sources, provider accounts) it stays in the environment: secret_env names the
-- variable the workers read when they sign. The database and its audit log never hold the key.
create table webhook_endpoints (
  id bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  company_id bigint not null references companies (id) on delete cascade,
  url text not null check (url ~ '^https?://[^\s]+$'),
  description text,
  -- the events it receives (packet.completed, message.delivered, ...); empty = every event
  events text[] not null default '{}',
  secret_env text not null check (secret_env ~ '^[A-Z][A-Z0-9_]{2,100}$'),
  -- retries back off from retry_initial_ms, doubling up to an hour, for max_attempts attempts in all
  max_attempts integer not null default 12 check (max_attempts between 1 and 50),
  retry_initial_ms integer not null default 30000 check (retry_initial_ms between 100 and 3600000),
  timeout_ms integer not null default 10000 check (timeout_ms between 100 and 60000),
  active boolean not null default true,
  -- why it was switched off (an answer of 410 Gone switches it off)
  disabled_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (company_id, url)
);

create table webhook_deliveries (
  id bigint generated always as identity primary key,
  -- sent as the event's id (body "id", header X-Herald-Delivery): receivers dedupe on it
  uuid uuid not null unique default gen_random_uuid(),
  endpoint_id bigint not null references webhook_endpoints (id) on delete cascade,
  company_id bigint not null references companies (id),
  event text not null,
  -- the business key (packet uuid, message uuid + status): the same event is delivered once per endpoint
  event_key text not null,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivering', 'delivered', 'failed')),
  attempts integer not null default 0,
  last_status_code integer,
  last_error text,
  last_duration_ms integer,
  workflow_id text,
  first_attempt_at timestamptz,
  last_attempt_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (endpoint_id, event_key)
);
create index webhook_deliveries_company on webhook_deliveries (company_id, created_at desc);
create index webhook_deliveries_open on webhook_deliveries (status) where status in ('pending', 'delivering');

-- every request made, with its answer and timing
create table webhook_attempts (
  id bigint generated always as identity primary key,
  delivery_id bigint not null references webhook_deliveries (id) on delete cascade,
  company_id bigint not null references companies (id),
  attempt integer not null check (attempt > 0),
  started_at timestamptz not null,
  duration_ms integer not null,
  status_code integer,
  -- the first 1,000 characters of the answer, or the network error
  response_body text,
  error text,
  outcome text not null check (outcome in ('delivered', 'retry', 'permanent')),
  unique (delivery_id, attempt)
);

do $$
declare
  t text;
begin
  foreach t in array array['webhook_endpoints', 'webhook_deliveries'] loop
    execute format('create trigger %I before update on %I for each row execute function herald_set_updated_at()',
                   t || '_updated_at', t);
  end loop;
end $$;
-- configuration: every change to an endpoint is audited
create trigger webhook_endpoints_audit after insert or update or delete on webhook_endpoints
  for each row execute function herald_audit();
