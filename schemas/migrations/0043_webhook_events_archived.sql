-- Archived messages still change: a late answer to an archived text sets contact_status on its history row
-- (and a late status is checked against the state machine there). The same events fire for them as for
-- live messages, through the same statement-level trigger function (the history row has every column it reads).
create trigger messages_history_webhook_events after update on messages_history
  referencing old table as old_rows new table as new_rows
  for each statement execute function herald_message_webhook_events();
