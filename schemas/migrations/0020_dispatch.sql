-- Sending: provider accounts and sender numbers with their rate caps, the shared send schedule,
-- the local outbox, call records, plan counters and credit balances.

-- ---------------------------------------------------------------------------------------------
-- Provider accounts: one Temporal task queue each (lib/names providerTaskQueue)
-- ---------------------------------------------------------------------------------------------

create table provider_accounts (
  id bigint generated always as identity primary key,
  key text not null unique check (key ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  channel text not null check (channel in ('sms', 'voice', 'email')),
  provider text not null check (provider in ('twilio', 'ses', 'outbox')),
  -- the account's cap at the vendor, messages per second across every worker
  max_per_second numeric(10, 2) not null check (max_per_second > 0),
  -- messages per send activity: Temporal is told max_per_second / batch_size activities per second
  batch_size integer not null default 100 check (batch_size between 1 and 1000),
  -- takes this account's messages when it fails transiently past its retries
  fallback_account_id bigint references provider_accounts (id),
  -- the channel's primary account when a company names none
  is_default boolean not null default false,
  -- non-secret settings (messaging service sid, configuration set); secrets stay in the environment
  settings jsonb not null default '{}',
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (fallback_account_id is distinct from id)
);
create unique index provider_accounts_one_default on provider_accounts (channel) where is_default and active;

-- numbers (and email senders) an account sends from; company_id null = shared by all companies
create table sender_numbers (
  id bigint generated always as identity primary key,
  account_id bigint not null references provider_accounts (id) on delete cascade,
  company_id bigint references companies (id) on delete cascade,
  address text not null,
  kind text not null default 'long_code' check (kind in ('long_code', 'toll_free', 'short_code', 'email')),
  -- carriers' per-number throughput: 1/s for a long code, more for toll-free and short codes
  max_per_second numeric(10, 2) not null default 1 check (max_per_second > 0),
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (account_id, address)
);
create index sender_numbers_company on sender_numbers (account_id, company_id) where active;

-- The shared send schedule: for each limiter (an account, a sender number, a company) the next
-- free send time. Dispatchers reserve runs of slots here, so a cap holds across every worker and
-- within every second, whatever bursts the task queue lets through.
create table send_rate_slots (
  key text primary key,
  next_at timestamptz not null default now()
);

-- ---------------------------------------------------------------------------------------------
-- The local outbox: the embedded default provider keeps every rendered message here
-- ---------------------------------------------------------------------------------------------

create table outbox_messages (
  id bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  -- one outbox row per message: a resend of the same message is the same row
  message_uuid uuid not null unique,
  company_id bigint not null references companies (id),
  account_key text not null,
  channel text not null check (channel in ('sms', 'voice', 'email')),
  to_address text not null,
  from_address text,
  subject text,
  body text not null,
  html_body text,
  twiml text,
  headers jsonb not null default '[]',
  segments integer,
  created_at timestamptz not null default now()
);
create index outbox_messages_company on outbox_messages (company_id, id desc);

-- ---------------------------------------------------------------------------------------------
-- Calls and their event log, with status transitions guarded
-- ---------------------------------------------------------------------------------------------

create table call_statuses (
  status text primary key,
  final boolean not null
);
insert into call_statuses (status, final) values
  ('queued', false), ('initiated', false), ('ringing', false), ('in-progress', false),
  ('completed', true), ('busy', true), ('no-answer', true), ('failed', true), ('canceled', true);

create table call_status_transitions (
  from_status text not null references call_statuses (status),
  to_status text not null references call_statuses (status),
  primary key (from_status, to_status)
);
-- callbacks can skip steps (a call nobody answers never rings in-progress) but never go back
insert into call_status_transitions (from_status, to_status)
select f.status, t.status from call_statuses f, call_statuses t
where not f.final and f.status <> t.status
  and array_position(array['queued', 'initiated', 'ringing', 'in-progress'], f.status)
    < coalesce(array_position(array['queued', 'initiated', 'ringing', 'in-progress'], t.status), 99);

create table calls (
  id bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  company_id bigint not null references companies (id),
  message_id bigint unique references messages (id) on delete set null,
  contact_id bigint references contacts (id) on delete set null,
  provider text not null,
  provider_account text not null,
  provider_call_sid text not null,
  direction text not null default 'outbound' check (direction in ('outbound', 'inbound')),
  from_number text,
  to_number text not null,
  status text not null default 'queued' references call_statuses (status),
  answered_by text,
  -- the key the recipient pressed at the <Gather>: 1 confirm, 2 cancel
  digits text,
  initiated_at timestamptz not null default now(),
  ringing_at timestamptz,
  answered_at timestamptz,
  ended_at timestamptz,
  duration_seconds integer check (duration_seconds >= 0),
  price numeric(10, 4),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (provider, provider_call_sid)
);
create index calls_company on calls (company_id, initiated_at desc);

create table call_events (
  id bigint generated always as identity primary key,
  call_id bigint not null references calls (id) on delete cascade,
  company_id bigint not null references companies (id),
  event_type text not null,
  from_status text,
  to_status text,
  payload jsonb not null default '{}',
  at timestamptz not null default now()
);
create index call_events_call on call_events (call_id, id);

create function herald_guard_call_status() returns trigger language plpgsql as $$
begin
  if new.status is distinct from old.status and not exists (
      select 1 from call_status_transitions where from_status = old.status and to_status = new.status) then
    raise exception 'call %: status % cannot change to %', old.id, old.status, new.status
      using errcode = 'check_violation';
  end if;
  return new;
end $$;
create trigger calls_status_guard before update of status on calls
  for each row execute function herald_guard_call_status();

-- ---------------------------------------------------------------------------------------------
-- Plan counters: messages claimed per company, channel and day / month (company-local dates)
-- ---------------------------------------------------------------------------------------------

create table company_send_counters (
  company_id bigint not null references companies (id) on delete cascade,
  channel text not null check (channel in ('sms', 'voice', 'email', 'all')),
  period text not null check (period in ('day', 'month')),
  period_start date not null,
  -- sent plus in flight; a message that turns out not to be accepted is given back
  claimed integer not null default 0 check (claimed >= 0),
  primary key (company_id, channel, period, period_start)
);

-- ---------------------------------------------------------------------------------------------
-- Credit balances kept by trigger, so a dispatcher reads one row instead of summing the ledger
-- ---------------------------------------------------------------------------------------------

create table credit_accounts (
  company_id bigint primary key references companies (id) on delete cascade,
  balance numeric(14, 2) not null default 0,
  -- credits promised to messages in flight, not yet debited
  reserved numeric(14, 2) not null default 0 check (reserved >= 0),
  updated_at timestamptz not null default now()
);

insert into credit_accounts (company_id, balance)
select company_id, sum(credits) from credit_ledger group by company_id;

create function herald_credit_ledger_balance() returns trigger language plpgsql as $$
begin
  insert into credit_accounts (company_id, balance)
  select company_id, sum(credits) from inserted group by company_id
  on conflict (company_id) do update
    set balance = credit_accounts.balance + excluded.balance, updated_at = now();
  return null;
end $$;
create trigger credit_ledger_balance after insert on credit_ledger
  referencing new table as inserted for each statement execute function herald_credit_ledger_balance();

-- the balance is the ledger's running sum: rows are never changed, a correction is a new row
create function herald_credit_ledger_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'credit_ledger is append-only: add an adjustment row instead' using errcode = 'check_violation';
end $$;
create trigger credit_ledger_append_only before update or delete on credit_ledger
  for each row execute function herald_credit_ledger_append_only();

create or replace view company_credit_balances as
  select c.id as company_id, c.alias, coalesce(a.balance, 0)::numeric(14, 2) as balance,
         coalesce(a.reserved, 0)::numeric(14, 2) as reserved
  from companies c left join credit_accounts a on a.company_id = c.id;

-- ---------------------------------------------------------------------------------------------
-- Messages: which send activity holds a message in 'sending', so only it may reconcile it
-- ---------------------------------------------------------------------------------------------

alter table messages add column dispatch_token text;
alter table messages_history add column dispatch_token text;

-- the dispatcher's page query: a company's due messages of one channel, in id order
create index messages_dispatch on messages (company_id, channel, id) where state = 'scheduled';

-- ---------------------------------------------------------------------------------------------
-- Embedded defaults: the local outbox for every channel
-- ---------------------------------------------------------------------------------------------

insert into provider_accounts (key, channel, provider, max_per_second, batch_size, is_default) values
  ('outbox-sms', 'sms', 'outbox', 50, 50, true),
  ('outbox-voice', 'voice', 'outbox', 10, 20, true),
  ('outbox-email', 'email', 'outbox', 50, 50, true);

insert into sender_numbers (account_id, address, kind, max_per_second)
select a.id, v.address, v.kind, v.rate
from provider_accounts a
join (values ('outbox-sms', '+16175550199', 'short_code', 50),
             ('outbox-voice', '+16175550199', 'long_code', 10),
             ('outbox-email', 'reminders@herald.local', 'email', 50)) as v(account, address, kind, rate)
  on v.account = a.key;

do $$
declare
  t text;
begin
  foreach t in array array['provider_accounts', 'sender_numbers', 'calls'] loop
    execute format('create trigger %I before update on %I for each row execute function herald_set_updated_at()',
                   t || '_updated_at', t);
  end loop;
  foreach t in array array['provider_accounts', 'sender_numbers'] loop
    execute format('create trigger %I after insert or update or delete on %I for each row execute function herald_audit()',
                   t || '_audit', t);
  end loop;
end $$;
