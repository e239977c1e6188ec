-- The notice for waiting provider callbacks (0031) once per statement instead of once per row: a
-- dispatch batch records hundreds of provider ids in one update, and a row trigger cost 10 µs a row
-- with nothing waiting and 100 µs with events waiting (npm run bench:callback-triggers). The
-- statement trigger reads the transition table messages' webhook trigger (0042) already keeps, and
-- stops after one probe when nothing waits, which is nearly always.

drop trigger messages_pending_provider_events on messages;
drop function herald_notify_pending_provider_events();

create function herald_notify_pending_provider_events() returns trigger language plpgsql as $$
declare
  id text;
begin
  if not exists (select 1 from provider_events_pending) then
    return null;
  end if;
  for id in
    select distinct p.provider_message_id
    from updated_rows u join provider_events_pending p on p.provider_message_id = u.provider_message_id
  loop
    perform pg_notify('herald_provider_events', id);
  end loop;
  return null;
end $$;
create trigger messages_pending_provider_events after update on messages
  referencing new table as updated_rows
  for each statement execute function herald_notify_pending_provider_events();
