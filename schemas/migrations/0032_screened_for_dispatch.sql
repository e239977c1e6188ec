-- Dispatch sends only what a reminder run screened, and never after the recipient's allowed hours
-- end. A message can become due (loaded late, released from held, re-planned) after its region's
-- screening passed it; without a mark, dispatch's own selection would send it unchecked.

-- the reminder-region workflow that screened the message ready; its dispatch takes only these
alter table messages add column screened_by text;
alter table messages_history add column screened_by text;
-- when the recipient's allowed hours end, as of that screening: no claim after it (the next run defers it)
alter table messages add column send_by timestamptz;
alter table messages_history add column send_by timestamptz;

-- Quiet hours hold at the moment of claiming, however long pacing kept the message waiting: the
-- claim's update skips the row (left scheduled, like an opted-out contact's), and the next run's
-- screening defers it to the next opening with the reason.
create function herald_guard_quiet_hours_claim() returns trigger language plpgsql as $$
begin
  if new.send_by is not null and new.send_by <= now() then
    return null;
  end if;
  return new;
end $$;
create trigger messages_quiet_hours_claim before update of state on messages
  for each row when (old.state = 'scheduled' and new.state = 'sending')
  execute function herald_guard_quiet_hours_claim();
