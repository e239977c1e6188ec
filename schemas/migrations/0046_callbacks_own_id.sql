-- Provider callbacks carry our own message uuid (?m= on the status callback URL): a callback whose
-- provider id no message has yet keeps it, so a reconciliation finds the vendor's id by our own.
alter table provider_events_pending add column message_uuid uuid;
create index provider_events_pending_message_uuid on provider_events_pending (message_uuid)
  where message_uuid is not null;
