-- Webhook events written in the same transaction as the change they report (a transactional outbox).
--
-- The outbox is webhook_deliveries itself: a trigger inserts one row per subscribed endpoint and event,
-- committed (or rolled back) with the state change, and the drainer (the drainWebhooks workflow) starts
-- one deliverWebhook workflow for each row that has no workflow_id yet. unique (endpoint_id, event_key)
-- makes an event once per endpoint; the workflow id derived from the row's uuid makes a row delivered
-- once however often it is drained.
--
-- Cost on the hot paths: messages carries one statement-level trigger with transition tables, so a bulk
-- update (a dispatch batch, an expiry sweep) pays one function call per statement, not one per row, and
-- that call ends after one probe of a tiny partial index when no endpoint anywhere wants message events.
-- Payloads carry ids, states and counts, never names, phone numbers, addresses or provider texts.

-- what the drainer reads: rows not yet handed to Temporal
create index webhook_deliveries_undrained on webhook_deliveries (id) where workflow_id is null;
-- the triggers' question: does any active endpoint of this company want this event?
create index webhook_endpoints_active on webhook_endpoints (company_id) where active;

-- true when the endpoint's event list (empty = every event) includes the event
create function herald_webhook_wants(events text[], event text) returns boolean
  language sql immutable parallel safe
  return cardinality(events) = 0 or event = any (events);

-- ---------------------------------------------------------------------------------------------
-- packet.completed / packet.failed: a packet reaching done or failed (again after a replay or reset)
-- ---------------------------------------------------------------------------------------------

create function herald_packet_webhook_event() returns trigger language plpgsql as $$
declare
  event text := case new.stage when 'done' then 'packet.completed' else 'packet.failed' end;
begin
  insert into webhook_deliveries (endpoint_id, company_id, event, event_key, payload)
  select e.id, new.company_id, event,
         -- each finish is its own event: a replayed packet reports its new counts
         format('packet:%s:%s:%s', new.uuid, new.stage, extract(epoch from coalesce(new.finished_at, now()))),
         jsonb_strip_nulls(jsonb_build_object(
           'packetId', new.uuid,
           'stage', new.stage,
           'fileName', new.original_name,
           'rowsRead', new.rows_read,
           'rowsLoaded', new.rows_loaded,
           'rowsRejected', new.rows_rejected,
           'rowsDuplicate', new.rows_duplicate,
           'messagesPlanned', new.messages_planned,
           'error', left(new.error, 500),
           'finishedAt', coalesce(new.finished_at, now())))
  from webhook_endpoints e
  where e.company_id = new.company_id and e.active and herald_webhook_wants(e.events, event)
  on conflict (endpoint_id, event_key) do nothing;
  return null;
end $$;

create trigger data_packets_webhook_events after update of stage on data_packets
  for each row
  when (new.stage in ('done', 'failed') and old.stage is distinct from new.stage)
  execute function herald_packet_webhook_event();

-- ---------------------------------------------------------------------------------------------
-- message.sent / delivered / undelivered / failed (state changes) and message.replied (a recipient's
-- answer: contact_status confirmed, cancelled, reschedule, opted_out or other; never the reply text)
-- ---------------------------------------------------------------------------------------------

create function herald_message_webhook_events() returns trigger language plpgsql as $$
begin
  -- the common case, one index probe per statement: no active endpoint anywhere wants message events
  if not exists (
      select 1 from webhook_endpoints e
      where e.active and (cardinality(e.events) = 0 or e.events && array[
        'message.sent', 'message.delivered', 'message.undelivered', 'message.failed', 'message.replied'])) then
    return null;
  end if;

  with subscribed as (
    select e.id, e.company_id, e.events from webhook_endpoints e where e.active
  ),
  changed as (
    select n.id, n.uuid, n.company_id, n.packet_id, n.channel, n.plan_step,
           case when n.state is distinct from o.state
                 and n.state in ('sent', 'delivered', 'undelivered', 'failed') then n.state end as status,
           o.state as previous_status,
           case when n.contact_status is distinct from o.contact_status then n.contact_status end as response
    from new_rows n
    join old_rows o on o.id = n.id
    where n.company_id in (select company_id from subscribed)
  ),
  events as (
    select c.*, 'message.' || c.status as event, c.status as key from changed c where c.status is not null
    union all
    select c.*, 'message.replied', 'replied:' || c.response from changed c where c.response is not null
  )
  insert into webhook_deliveries (endpoint_id, company_id, event, event_key, payload)
  select s.id, ev.company_id, ev.event, format('message:%s:%s', ev.uuid, ev.key),
         jsonb_strip_nulls(jsonb_build_object(
           'messageId', ev.uuid,
           'packetId', p.uuid,
           'channel', ev.channel,
           'planStep', ev.plan_step,
           'status', coalesce(ev.status, ev.previous_status),
           'previousStatus', case when ev.status is not null then ev.previous_status end,
           'response', case when ev.event = 'message.replied' then ev.response end,
           'occurredAt', now()))
  from events ev
  join subscribed s on s.company_id = ev.company_id and herald_webhook_wants(s.events, ev.event)
  left join data_packets p on p.id = ev.packet_id
  order by ev.id, s.id
  on conflict (endpoint_id, event_key) do nothing;
  return null;
end $$;

create trigger messages_webhook_events after update on messages
  referencing old table as old_rows new table as new_rows
  for each statement execute function herald_message_webhook_events();
