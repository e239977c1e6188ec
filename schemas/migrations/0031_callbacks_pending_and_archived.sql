-- Provider callbacks that find no live message: kept until dispatch records the provider's id
-- (a callback can overtake that write under load), and applied to history when the message has
-- already been archived.

-- ---------------------------------------------------------------------------------------------
-- Events whose provider message id no message has yet
-- ---------------------------------------------------------------------------------------------

create table provider_events_pending (
  id bigint generated always as identity primary key,
  -- who the event is recorded as in message_updates (twilio, ses)
  provider text not null,
  provider_event_id text not null,
  provider_message_id text not null,
  -- whose message ids the callback route may name (the local outbox stands in for Twilio and SES)
  providers text[] not null,
  -- the parsed event, applied as if it had just arrived
  event jsonb not null,
  received_at timestamptz not null default now(),
  -- a callback delivered twice while waiting is kept once
  unique (provider, provider_event_id)
);
create index provider_events_pending_message_id on provider_events_pending (provider_message_id);

-- When dispatch records a provider id that waiting events name, the ingress is told at commit
-- (LISTEN herald_provider_events); its periodic sweep catches a notice that nobody heard.
create function herald_notify_pending_provider_events() returns trigger language plpgsql as $$
begin
  if exists (select 1 from provider_events_pending p where p.provider_message_id = new.provider_message_id) then
    perform pg_notify('herald_provider_events', new.provider_message_id);
  end if;
  return null;
end $$;
create trigger messages_pending_provider_events after update of provider_message_id on messages
  for each row when (new.provider_message_id is not null and old.provider_message_id is distinct from new.provider_message_id)
  execute function herald_notify_pending_provider_events();

-- ---------------------------------------------------------------------------------------------
-- Events for archived messages go to the history twin, once
-- ---------------------------------------------------------------------------------------------

-- message_updates' unique key, so a callback delivered twice after archival is recorded once there too
create unique index message_updates_history_provider_event on message_updates_history (provider, provider_event_id);

-- a reply to an archived reminder finds it by phone, and an old email's unsubscribe link by uuid
create index messages_history_to_address on messages_history (to_address, sent_at desc) where to_address is not null;
create index messages_history_uuid on messages_history (uuid);
