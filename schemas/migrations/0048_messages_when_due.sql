-- Reminder messages come into being when their step falls due (the reminder run, lib/messages/due-steps.ts),
-- no longer all at once when a packet is loaded: ingest writes contacts and appointments only. What a
-- company's plan implies for an appointment is computed from the appointment as it is at each run, so a
-- moved appointment needs no re-planning and a removed one no cancelling.

-- ---------------------------------------------------------------------------------------------
-- Appointments: when herald learned their current time, and the time before it
-- ---------------------------------------------------------------------------------------------

-- A step whose time had passed when herald learned the appointment's time is not sent late (a file
-- loaded a day before the appointment does not send the two-day reminder at once); the merge sets it
-- when it inserts an appointment or changes its time.
alter table appointments add column starts_at_set_at timestamptz not null default now();
-- set by the merge when the time changes: a reminder for the new time can say that it moved
alter table appointments add column previous_starts_at timestamptz;
-- every step after the last change was planned by the previous release and has its message already
update appointments set starts_at_set_at = updated_at;

-- ---------------------------------------------------------------------------------------------
-- Messages: a step is sent once per appointment, step and appointment time
-- ---------------------------------------------------------------------------------------------

-- the appointment time a reminder step was due for; null for a message that is no plan step
alter table messages add column appointment_at timestamptz;
alter table messages_history add column appointment_at timestamptz;

-- Messages planned by the previous release expire at their appointment's time (then): that is their
-- appointment time. Where a step was planned twice for one time (cancelled, then planned again), the
-- newest is the one that counts.
update messages m set appointment_at = m.expires_at
from (select distinct on (appointment_id, plan_step, expires_at) id
      from messages
      where appointment_id is not null and plan_step is not null and expires_at is not null
      order by appointment_id, plan_step, expires_at, (state = 'cancelled'), id desc) newest
where m.id = newest.id;

-- The reminder run's guarantee that a step is never made twice for one appointment time, however often
-- a run is retried and however runs overlap. A cancelled message was never sent (only scheduled or held
-- ones are cancelled), so it does not count: an appointment back in its feed gets its steps again.
drop index messages_plan_step;
create unique index messages_step_once on messages (appointment_id, plan_step, appointment_at)
  where appointment_at is not null and state <> 'cancelled';

-- ---------------------------------------------------------------------------------------------
-- Drip enrollments stop the steps of one appointment time
-- ---------------------------------------------------------------------------------------------

-- A person's answer (confirmed, cancelled, asked to reschedule) stops the reminders of the time they
-- answered about; a move to a new time is news, and its steps go out again. An opt-out stays stopped.
alter table reminder_enrollments add column appointment_at timestamptz;
update reminder_enrollments e set appointment_at = a.starts_at from appointments a where a.id = e.appointment_id;

-- The reminder run enrols an appointment when it makes its first message for a time (lib/messages),
-- in the same statement; the insert trigger that did it for any inserted message goes.
drop trigger messages_enrol on messages;
drop function herald_enrol_planned_messages();

-- ---------------------------------------------------------------------------------------------
-- Packets no longer plan messages
-- ---------------------------------------------------------------------------------------------

-- what a packet's appointments will get is computed when asked (herald packets show)
create or replace function herald_packet_webhook_event() returns trigger language plpgsql as $$
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
           'error', left(new.error, 500),
           'finishedAt', coalesce(new.finished_at, now())))
  from webhook_endpoints e
  where e.company_id = new.company_id and e.active and herald_webhook_wants(e.events, event)
  on conflict (endpoint_id, event_key) do nothing;
  return null;
end $$;
alter table data_packets drop column messages_planned;

-- the reminder run's question for a full-refresh feed: has a newer file of the same source been merged?
create index data_packets_source_merged on data_packets (source_id, merged_at) where source_id is not null;

-- ---------------------------------------------------------------------------------------------
-- Templates that say the appointment moved
-- ---------------------------------------------------------------------------------------------

insert into message_templates (scope, channel, name, category, subject, body, html_body, details) values
  ('global', 'sms', 'appointment_moved', 'HealthCare', null,
   'Hi {data.first_name}, {company.name} here: your appointment has moved to {data.appointment_date|date|ddd MMM D [at] h:mm A}. Reply C to confirm, N to cancel, STOP to opt out.',
   null, '{}'),
  ('global', 'voice', 'appointment_moved', 'HealthCare', null,
   'Hello {data.first_name}. This is {company.name}. Your appointment has moved to {data.appointment_date|date|dddd, MMMM D [at] h:mm A}.',
   null,
   '{"snippets": {"confirm_prompt": "Press 1 to confirm the new time. Press 2 to cancel.", "confirmed": "Thank you. Your appointment is confirmed.", "cancelled": "Your appointment has been cancelled. Please call {company.phone_number|phone} to reschedule.", "no_input": "We did not receive your answer. Goodbye."}}'),
  ('global', 'email', 'appointment_moved', 'HealthCare',
   'Your appointment has moved to {data.appointment_date|date|MMM D [at] h:mm A}',
   E'Hi {data.first_name},\n\n{company.name} has moved your appointment from {data.previous_appointment_date|date|dddd, MMMM D [at] h:mm A} to {data.appointment_date|date|dddd, MMMM D, YYYY [at] h:mm A}.\n\nIf the new time does not suit you, call us at {company.phone_number|phone}.',
   '<p>Hi {data.first_name},</p><p><strong>{company.name}</strong> has moved your appointment from {data.previous_appointment_date|date|dddd, MMMM D [at] h:mm A} to {data.appointment_date|date|dddd, MMMM D, YYYY [at] h:mm A}.</p><p>If the new time does not suit you, call us at {company.phone_number|phone}.</p>',
   '{}');

-- the demo clinic's plan says so when an appointment moved
update companies
set settings = settings || '{
  "reminderPlan": [
    {"step": "sms-2d", "channel": "sms", "template": "appointment_reminder", "movedTemplate": "appointment_moved", "offset": {"days": -2}, "at": "10:00"},
    {"step": "voice-1d", "channel": "voice", "template": "appointment_reminder", "movedTemplate": "appointment_moved", "offset": {"days": -1}, "at": "17:00"},
    {"step": "sms-2h", "channel": "sms", "template": "appointment_reminder", "movedTemplate": "appointment_moved", "offset": {"hours": -2}}
  ]
}'::jsonb
where alias = 'demo-clinic';
