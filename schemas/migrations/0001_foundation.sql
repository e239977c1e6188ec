-- herald's data model: tenants, ingest, contacts, regions, templates, messages, credits and audit.
-- Conventions: bigint identity keys inside, uuid where an id leaves the system,
-- timestamptz in UTC, jsonb for flexible details, updated_at kept by trigger, one audit trigger.

-- ---------------------------------------------------------------------------------------------
-- Generic triggers
-- ---------------------------------------------------------------------------------------------

create function herald_set_updated_at() returns trigger language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end $$;

create table audit_log (
  id bigint generated always as identity primary key,
  table_name text not null,
  row_id bigint,
  company_id bigint,
  actor text not null,
  action text not null check (action in ('insert', 'update', 'delete')),
  before jsonb,
  after jsonb,
  at timestamptz not null default now()
);
create index audit_log_row on audit_log (table_name, row_id);
create index audit_log_company_at on audit_log (company_id, at);
create index audit_log_at on audit_log (at);

-- The actor is the session setting herald.actor, which every herald connection sets (lib/db.ts);
-- a change made by hand in psql is recorded as the database role. Secrets never enter the log.
create function herald_audit() returns trigger language plpgsql as $$
declare
  actor text := coalesce(nullif(current_setting('herald.actor', true), ''), 'db:' || session_user);
  old_row jsonb;
  new_row jsonb;
  subject jsonb;
  company bigint;
begin
  if tg_op in ('UPDATE', 'DELETE') then
    old_row := to_jsonb(old) - 'password_hash' - 'key_hash';
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    new_row := to_jsonb(new) - 'password_hash' - 'key_hash';
  end if;
  if tg_op = 'UPDATE' and (old_row - 'updated_at') = (new_row - 'updated_at') then
    return new;
  end if;
  subject := coalesce(new_row, old_row);
  company := case when tg_table_name = 'companies' then (subject ->> 'id')::bigint
                  else (subject ->> 'company_id')::bigint end;
  insert into audit_log (table_name, row_id, company_id, actor, action, before, after)
  values (tg_table_name, (subject ->> 'id')::bigint, company, actor, lower(tg_op), old_row, new_row);
  return coalesce(new, old);
end $$;

-- ---------------------------------------------------------------------------------------------
-- Tenants
-- ---------------------------------------------------------------------------------------------

create table companies (
  id bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  alias text not null unique check (alias ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text not null check (length(trim(name)) > 0),
  timezone text not null default 'America/New_York',
  phone_number text check (phone_number is null or phone_number ~ '^\+[1-9][0-9]{6,14}$'),
  email_from text,
  email_reply_to text,
  -- address, billing and technical contact
  details jsonb not null default '{}',
  -- reminder plan, quiet hours, schedules, sender numbers: validated by the app's zod schema
  settings jsonb not null default '{}',
  retention_days integer not null default 90 check (retention_days between 1 and 3650),
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table groups (
  id bigint generated always as identity primary key,
  name text not null unique,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- companies can be part of a group; one of them is its master
create table company_groups (
  id bigint generated always as identity primary key,
  group_id bigint not null references groups (id) on delete cascade,
  company_id bigint not null references companies (id) on delete cascade,
  master boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (group_id, company_id)
);
create unique index company_groups_one_master on company_groups (group_id) where master;
create index company_groups_company on company_groups (company_id);

create table company_locations (
  id bigint generated always as identity primary key,
  company_id bigint not null references companies (id) on delete cascade,
  external_id text,
  name text not null,
  address_1 text,
  address_2 text,
  city text,
  state char(2),
  zip text,
  timezone text,
  phone_number text,
  details jsonb not null default '{}',
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (company_id, name)
);
create unique index company_locations_external on company_locations (company_id, external_id)
  where external_id is not null;

-- a company's customers: its providers, schools or sites
create table customers (
  id bigint generated always as identity primary key,
  company_id bigint not null references companies (id) on delete cascade,
  external_id text,
  name text not null,
  details jsonb not null default '{}',
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (company_id, name)
);
create unique index customers_external on customers (company_id, external_id) where external_id is not null;

-- operators; company_id null = herald staff with access to every company
create table users (
  id bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  company_id bigint references companies (id) on delete cascade,
  email text not null,
  first_name text,
  last_name text,
  phone_number text,
  password_hash text,
  role text not null default 'operator' check (role in ('admin', 'operator', 'viewer')),
  locked boolean not null default false,
  login_attempts integer not null default 0,
  last_login_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index users_email on users (lower(email));

-- only a hash of the key is stored; the key itself is shown once when made
create table api_keys (
  id bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  company_id bigint not null references companies (id) on delete cascade,
  user_id bigint references users (id) on delete set null,
  name text not null,
  key_prefix text not null,
  key_hash text not null unique,
  key_hint text not null,
  scopes text[] not null default '{}',
  status text not null default 'active' check (status in ('active', 'revoked')),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index api_keys_company on api_keys (company_id);

-- plan limits per company; null = unlimited
create table company_plans (
  company_id bigint primary key references companies (id) on delete cascade,
  plan text not null default 'standard',
  max_sms_per_day integer check (max_sms_per_day >= 0),
  max_voice_per_day integer check (max_voice_per_day >= 0),
  max_email_per_day integer check (max_email_per_day >= 0),
  max_messages_per_month integer check (max_messages_per_month >= 0),
  max_sms_segments integer not null default 4 check (max_sms_segments between 1 and 10),
  max_sends_per_second integer check (max_sends_per_second > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- ---------------------------------------------------------------------------------------------
-- Regions (shards): states and ZIP prefixes make a region; a region maps to a task queue
-- ---------------------------------------------------------------------------------------------

create table regions (
  code text primary key check (code ~ '^[a-z][a-z0-9_]{1,30}$'),
  name text not null,
  task_queue text not null unique,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table region_states (
  state char(2) primary key,
  name text not null unique,
  region_code text not null references regions (code),
  timezone text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index region_states_region on region_states (region_code);

create table zip_prefixes (
  prefix char(3) primary key check (prefix ~ '^[0-9]{3}$'),
  state char(2) not null references region_states (state)
);

-- ---------------------------------------------------------------------------------------------
-- Ingest
-- ---------------------------------------------------------------------------------------------

create table company_load_maps (
  id bigint generated always as identity primary key,
  company_id bigint not null references companies (id) on delete cascade,
  name text not null check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  version integer not null check (version > 0),
  load_map jsonb not null,
  system_name text,
  system_version text,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (company_id, name, version)
);

create table data_ingest_sources (
  id bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  company_id bigint not null references companies (id) on delete cascade,
  name text not null,
  kind text not null check (kind in ('s3', 'sftp', 'api', 'upload')),
  -- bucket/prefix, host/port/user/dir/glob, url/headers...; secrets only as env variable names
  config jsonb not null default '{}',
  -- cron expression or interval for the discovery schedule; null = on demand only
  schedule text,
  load_map_name text,
  -- overwrite, flush or append: a full_refresh feed cancels pending messages of
  -- appointments it no longer contains
  refresh_mode text not null default 'append' check (refresh_mode in ('append', 'full_refresh')),
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (company_id, name)
);

create table data_packets (
  id bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  company_id bigint not null references companies (id),
  source_id bigint references data_ingest_sources (id),
  load_map_id bigint references company_load_maps (id),
  stage text not null default 'received' check (stage in (
    'received', 'fetched', 'parsed', 'loaded', 'sharded', 'planned', 'done', 'failed', 'cancelled')),
  -- one packet per file however often it is seen: source + key + etag (or content checksum)
  dedupe_key text not null,
  object_key text not null,
  original_name text,
  etag text,
  size_bytes bigint,
  checksum text,
  content_type text,
  rows_read integer not null default 0,
  rows_loaded integer not null default 0,
  rows_rejected integer not null default 0,
  rows_duplicate integer not null default 0,
  messages_planned integer not null default 0,
  rejects_key text,
  workflow_id text,
  error text,
  error_details jsonb,
  metadata jsonb not null default '{}',
  started_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (company_id, dedupe_key)
);
create index data_packets_company_created on data_packets (company_id, created_at desc);
create index data_packets_stage on data_packets (stage) where stage not in ('done', 'cancelled');

-- the stage log an operator reads
create table packet_events (
  id bigint generated always as identity primary key,
  packet_id bigint not null references data_packets (id) on delete cascade,
  company_id bigint not null references companies (id),
  stage text not null,
  event text not null,
  actor text not null,
  details jsonb not null default '{}',
  at timestamptz not null default now()
);
create index packet_events_packet on packet_events (packet_id, id);
create index packet_events_at on packet_events (at);

-- every rejected row with its number, column and reason
create table packet_rejects (
  id bigint generated always as identity primary key,
  packet_id bigint not null references data_packets (id) on delete cascade,
  company_id bigint not null references companies (id),
  row_number integer not null,
  column_name text,
  raw_value text,
  reason text not null,
  raw_row jsonb,
  created_at timestamptz not null default now()
);
create index packet_rejects_packet on packet_rejects (packet_id, row_number);

-- ---------------------------------------------------------------------------------------------
-- Contacts and appointments
-- ---------------------------------------------------------------------------------------------

create table contacts (
  id bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  company_id bigint not null references companies (id),
  customer_id bigint references customers (id),
  location_id bigint references company_locations (id),
  external_id text,
  -- the company's dedupe criteria (contact_blocks) reduced to one key
  dedupe_key text not null,
  first_name text,
  last_name text,
  middle_name text,
  phone_e164 text check (phone_e164 is null or phone_e164 ~ '^\+[1-9][0-9]{6,14}$'),
  email text check (email is null or email = lower(email)),
  timezone text,
  zip text,
  state char(2),
  region text references regions (code),
  region_reason text,
  language text not null default 'en',
  do_not_sms boolean not null default false,
  do_not_call boolean not null default false,
  do_not_email boolean not null default false,
  opted_out_at timestamptz,
  consent_source text,
  consent_at timestamptz,
  data jsonb not null default '{}',
  first_packet_id bigint references data_packets (id),
  last_packet_id bigint references data_packets (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (company_id, dedupe_key)
);
create index contacts_company_phone on contacts (company_id, phone_e164) where phone_e164 is not null;
create index contacts_company_email on contacts (company_id, email) where email is not null;
create index contacts_company_external on contacts (company_id, external_id) where external_id is not null;

create table appointments (
  id bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  company_id bigint not null references companies (id),
  contact_id bigint not null references contacts (id),
  customer_id bigint references customers (id),
  location_id bigint references company_locations (id),
  external_id text,
  dedupe_key text not null,
  starts_at timestamptz not null,
  timezone text,
  status text not null default 'scheduled' check (status in (
    'scheduled', 'confirmed', 'cancelled', 'reschedule_requested', 'completed')),
  data jsonb not null default '{}',
  first_packet_id bigint references data_packets (id),
  last_packet_id bigint references data_packets (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (company_id, dedupe_key)
);
create index appointments_contact on appointments (contact_id);
create index appointments_company_starts on appointments (company_id, starts_at);

-- the company chooses what to match on (purpose dedupe), and company block lists
-- (purpose block: matching contacts are never messaged)
create table contact_blocks (
  id bigint generated always as identity primary key,
  company_id bigint not null references companies (id) on delete cascade,
  purpose text not null check (purpose in ('dedupe', 'block')),
  name text not null,
  criteria jsonb not null,
  reason text,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (company_id, purpose, name)
);

-- ---------------------------------------------------------------------------------------------
-- Templates
-- ---------------------------------------------------------------------------------------------

create table message_templates (
  id bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  scope text not null check (scope in ('global', 'company', 'customer')),
  company_id bigint references companies (id) on delete cascade,
  customer_id bigint references customers (id) on delete cascade,
  channel text not null check (channel in ('sms', 'voice', 'email')),
  name text not null,
  language text not null default 'en',
  version integer not null default 1 check (version > 0),
  -- global templates carry an industry type (HealthCare, School, Utilities, Commercial)
  category text,
  subject text,
  body text not null,
  html_body text,
  -- voice snippets and other channel details
  details jsonb not null default '{}',
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((scope = 'global' and company_id is null and customer_id is null)
      or (scope = 'company' and company_id is not null and customer_id is null)
      or (scope = 'customer' and company_id is not null and customer_id is not null)),
  check (channel <> 'email' or subject is not null)
);
create unique index message_templates_version on message_templates
  (scope, coalesce(company_id, 0), coalesce(customer_id, 0), channel, name, language, version);

-- ---------------------------------------------------------------------------------------------
-- Messages
-- ---------------------------------------------------------------------------------------------

create table message_states (
  state text primary key,
  final boolean not null,
  description text not null
);

create table message_state_transitions (
  from_state text not null references message_states (state),
  to_state text not null references message_states (state),
  primary key (from_state, to_state)
);

-- messages is not partitioned. Archival moves rows per company retention and final state, not
-- per calendar range, so a range partition could not be dropped whole; the live table stays
-- small because archival empties it, and partitioning would cost the global unique index on
-- provider message ids that callbacks look up. messages_history is where ranges pay off later.
create table messages (
  id bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  company_id bigint not null references companies (id),
  customer_id bigint references customers (id),
  location_id bigint references company_locations (id),
  contact_id bigint not null references contacts (id),
  appointment_id bigint references appointments (id),
  packet_id bigint references data_packets (id),
  channel text not null check (channel in ('sms', 'voice', 'email')),
  template_name text not null,
  -- which step of the company's reminder plan made this message; unique per appointment
  plan_step text,
  data jsonb not null default '{}',
  contact_at timestamptz not null,
  expires_at timestamptz,
  region text not null references regions (code),
  state text not null default 'scheduled' references message_states (state),
  status_description text,
  -- the recipient's answer: confirmed, cancelled, reschedule, opted_out, other
  contact_status text,
  raw_response text,
  provider text,
  provider_account text,
  provider_message_id text,
  from_address text,
  to_address text,
  segments integer,
  encoding text,
  duration_seconds integer,
  credits numeric(12, 2),
  attempts integer not null default 0,
  sending_at timestamptz,
  sent_at timestamptz,
  delivered_at timestamptz,
  last_event_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- due messages by region and time: the reminder run's page query
create index messages_due on messages (region, contact_at) where state = 'scheduled';
create index messages_packet on messages (packet_id);
create unique index messages_provider_id on messages (provider, provider_message_id)
  where provider_message_id is not null;
create index messages_company_contact on messages (company_id, contact_id);
create unique index messages_plan_step on messages (appointment_id, plan_step)
  where appointment_id is not null and plan_step is not null and state not in ('cancelled', 'expired');
create index messages_in_flight on messages (state, sending_at) where state in ('sending', 'unknown');

-- the state machine lives in SQL so no code path can skip a step or resend a sent message
create function herald_guard_message_state() returns trigger language plpgsql as $$
begin
  if new.state is distinct from old.state and not exists (
      select 1 from message_state_transitions where from_state = old.state and to_state = new.state) then
    raise exception 'message %: state % cannot change to %', old.id, old.state, new.state
      using errcode = 'check_violation';
  end if;
  return new;
end $$;

create table message_updates (
  id bigint generated always as identity primary key,
  message_id bigint not null references messages (id) on delete cascade,
  company_id bigint not null references companies (id),
  channel text not null,
  provider text not null,
  -- the provider's own id of this event; a callback delivered twice is applied once
  provider_event_id text not null,
  event_type text not null,
  status text,
  payload jsonb not null default '{}',
  received_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (provider, provider_event_id)
);
create index message_updates_message on message_updates (message_id, id);

-- history twins: same columns plus when the row was archived. Keep them in step with messages.
create table messages_history (like messages including defaults including constraints);
alter table messages_history alter column id drop default;
alter table messages_history add primary key (id);
alter table messages_history add column archived_at timestamptz not null default now();
create index messages_history_company on messages_history (company_id, contact_at);
create index messages_history_provider_id on messages_history (provider, provider_message_id)
  where provider_message_id is not null;

create table message_updates_history (like message_updates including defaults including constraints);
alter table message_updates_history alter column id drop default;
alter table message_updates_history add primary key (id);
alter table message_updates_history add column archived_at timestamptz not null default now();
create index message_updates_history_message on message_updates_history (message_id);

-- ---------------------------------------------------------------------------------------------
-- Credits
-- ---------------------------------------------------------------------------------------------

create table credit_prices (
  id bigint generated always as identity primary key,
  credits_package integer not null unique check (credits_package > 0),
  price_per_credit numeric(10, 4) not null check (price_per_credit > 0),
  currency char(3) not null default 'USD',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- what one unit of each channel costs in credits: SMS per segment, voice per started minute,
-- email per message
create table credit_rates (
  channel text primary key check (channel in ('sms', 'voice', 'email')),
  unit text not null check (unit in ('segment', 'minute', 'message')),
  credits_per_unit numeric(8, 2) not null check (credits_per_unit >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table credit_ledger (
  id bigint generated always as identity primary key,
  company_id bigint not null references companies (id),
  kind text not null check (kind in ('purchase', 'debit', 'refund', 'adjustment')),
  -- signed: purchases and refunds add, debits subtract
  credits numeric(14, 2) not null,
  message_id bigint,
  credit_price_id bigint references credit_prices (id),
  amount numeric(12, 2),
  note text,
  actor text not null default coalesce(nullif(current_setting('herald.actor', true), ''), 'db:' || session_user),
  created_at timestamptz not null default now(),
  check ((kind = 'debit') = (credits < 0) or kind = 'adjustment')
);
create index credit_ledger_company on credit_ledger (company_id, created_at);
-- a message is debited at most once
create unique index credit_ledger_message_debit on credit_ledger (message_id) where kind = 'debit';

create view company_credit_balances as
  select c.id as company_id, c.alias, coalesce(sum(l.credits), 0)::numeric(14, 2) as balance
  from companies c left join credit_ledger l on l.company_id = c.id
  group by c.id, c.alias;

-- ---------------------------------------------------------------------------------------------
-- Triggers on every table that has them
-- ---------------------------------------------------------------------------------------------

do $$
declare
  t text;
begin
  foreach t in array array[
    'companies', 'groups', 'company_groups', 'company_locations', 'customers', 'users', 'api_keys',
    'company_plans', 'regions', 'region_states', 'company_load_maps', 'data_ingest_sources',
    'data_packets', 'contacts', 'appointments', 'contact_blocks', 'message_templates', 'messages',
    'message_updates', 'credit_prices', 'credit_rates']
  loop
    execute format('create trigger %I before update on %I for each row execute function herald_set_updated_at()',
                   t || '_updated_at', t);
  end loop;

  -- configuration tables: every change audited
  foreach t in array array[
    'companies', 'groups', 'company_groups', 'company_locations', 'customers', 'users', 'api_keys',
    'company_plans', 'regions', 'region_states', 'company_load_maps', 'data_ingest_sources',
    'contact_blocks', 'message_templates', 'credit_prices', 'credit_rates']
  loop
    execute format('create trigger %I after insert or update or delete on %I for each row execute function herald_audit()',
                   t || '_audit', t);
  end loop;
end $$;

-- contacts arrive by the million through loads (their packet is their record); what is audited
-- is a change to someone's consent, and a deletion
create trigger contacts_audit_consent after update of do_not_sms, do_not_call, do_not_email on contacts
  for each row
  when (old.do_not_sms is distinct from new.do_not_sms or old.do_not_call is distinct from new.do_not_call
        or old.do_not_email is distinct from new.do_not_email)
  execute function herald_audit();
create trigger contacts_audit_delete after delete on contacts for each row execute function herald_audit();

create trigger messages_state_guard before update of state on messages
  for each row execute function herald_guard_message_state();
