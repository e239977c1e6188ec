-- Reminders: deferrals, replies received, drip enrollments, block-list matching, and the
-- database's own guarantee that nobody who opted out of a channel is claimed for it.

-- ---------------------------------------------------------------------------------------------
-- Deferral: quiet hours move contact_at; the planned time is kept so an operator sees both
-- ---------------------------------------------------------------------------------------------

alter table messages add column planned_contact_at timestamptz;
alter table messages add column deferrals integer not null default 0;
alter table messages_history add column planned_contact_at timestamptz;
alter table messages_history add column deferrals integer not null default 0;

-- the reminder run's page query: one company's due messages of one region, by contact time then id
create index messages_company_region_due on messages (company_id, region, contact_at, id) where state = 'scheduled';

-- replies are matched to the last message texted or called to that number
create index messages_to_address on messages (to_address, sent_at desc) where to_address is not null;

-- ---------------------------------------------------------------------------------------------
-- What recipients sent us: texts and pressed keys, with what herald made of them
-- ---------------------------------------------------------------------------------------------

create table inbound_messages (
  id bigint generated always as identity primary key,
  provider text not null,
  -- Twilio's MessageSid of the reply (or CallSid:digits); a webhook delivered twice is stored once
  provider_event_id text not null,
  channel text not null check (channel in ('sms', 'voice', 'email')),
  from_address text not null,
  to_address text,
  body text not null,
  -- opt_out, opt_in, confirm, cancel, reschedule, other
  intent text not null,
  -- null when no message of ours was sent to this number from that sender
  company_id bigint references companies (id),
  contact_id bigint references contacts (id) on delete set null,
  message_id bigint references messages (id) on delete set null,
  received_at timestamptz not null default now(),
  unique (provider, provider_event_id)
);
create index inbound_messages_company on inbound_messages (company_id, received_at desc);
create index inbound_messages_from on inbound_messages (from_address, received_at desc);

-- ---------------------------------------------------------------------------------------------
-- Drip enrollments: one per appointment's reminder plan
-- ---------------------------------------------------------------------------------------------

create table reminder_enrollments (
  id bigint generated always as identity primary key,
  company_id bigint not null references companies (id),
  contact_id bigint not null references contacts (id) on delete cascade,
  appointment_id bigint not null unique references appointments (id) on delete cascade,
  -- active: touches go out; completed: the person confirmed; cancelled: they cancelled (or asked to
  -- reschedule); opted_out: they said STOP; paused: an operator stopped it
  status text not null default 'active' check (status in ('active', 'paused', 'completed', 'cancelled', 'opted_out')),
  status_reason text,
  enrolled_at timestamptz not null default now(),
  last_response_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index reminder_enrollments_contact on reminder_enrollments (contact_id);
create index reminder_enrollments_company_status on reminder_enrollments (company_id, status);
create trigger reminder_enrollments_updated_at before update on reminder_enrollments
  for each row execute function herald_set_updated_at();

-- Planned touches enrol their appointment, whoever plans them: one statement-level insert per
-- planning statement, so a million planned messages cost one extra insert, not a million.
create function herald_enrol_planned_messages() returns trigger language plpgsql as $$
begin
  insert into reminder_enrollments (company_id, contact_id, appointment_id)
  select distinct on (appointment_id) company_id, contact_id, appointment_id
  from inserted where appointment_id is not null and plan_step is not null
  on conflict (appointment_id) do nothing;
  return null;
end $$;
create trigger messages_enrol after insert on messages
  referencing new table as inserted for each statement execute function herald_enrol_planned_messages();

-- ---------------------------------------------------------------------------------------------
-- Company block lists (contact_blocks purpose 'block'): every key of the criteria must match
-- ---------------------------------------------------------------------------------------------

-- Criteria keys: phone (or phone_number, phone_e164), email (or email_address), first_name,
-- last_name, external_id, zip, state; compared case-insensitively. An unknown key matches nobody,
-- so a typo never blocks a whole company, and empty criteria block no one.
create function herald_block_matches(criteria jsonb, c contacts) returns boolean language sql stable as $$
  select jsonb_typeof(criteria) = 'object' and criteria <> '{}'::jsonb and not exists (
    select 1 from jsonb_each_text(criteria) k
    where lower(trim(k.value)) is distinct from lower(case k.key
      when 'phone' then c.phone_e164 when 'phone_number' then c.phone_e164 when 'phone_e164' then c.phone_e164
      when 'email' then c.email when 'email_address' then c.email
      when 'first_name' then c.first_name when 'last_name' then c.last_name
      when 'external_id' then c.external_id when 'zip' then c.zip when 'state' then c.state
      end))
$$;

-- ---------------------------------------------------------------------------------------------
-- Opt-outs hold at the moment of sending, whichever code claims the message
-- ---------------------------------------------------------------------------------------------

-- A dispatcher loads contacts when its batch starts and claims (scheduled -> sending) up to
-- minutes later. If the person opted out of that channel in between, the row is left untouched:
-- the claim's update skips it, so it is never handed to a provider, and the next run's checks
-- skip it with the reason. (The ingress also skips pending messages when the STOP arrives.)
create function herald_guard_opted_out_claim() returns trigger language plpgsql as $$
begin
  if exists (
      select 1 from contacts c where c.id = new.contact_id
        and case new.channel when 'sms' then c.do_not_sms when 'voice' then c.do_not_call else c.do_not_email end) then
    return null;
  end if;
  return new;
end $$;
create trigger messages_opted_out_claim before update of state on messages
  for each row when (old.state = 'scheduled' and new.state = 'sending')
  execute function herald_guard_opted_out_claim();

-- ---------------------------------------------------------------------------------------------
-- What people answered, per packet and company
-- ---------------------------------------------------------------------------------------------

create view message_reply_summary as
  select m.company_id, m.packet_id, m.channel, m.contact_status, count(*)::int as messages
  from messages m
  where m.contact_status is not null
  group by m.company_id, m.packet_id, m.channel, m.contact_status;
