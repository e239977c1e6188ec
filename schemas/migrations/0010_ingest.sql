-- Ingest: the staging table a packet's cleaned rows are copied into before one merge, the packet's
-- merge mark, lookups the merge and planning need, and the demo company's reminder plan.

-- Unlogged: staging rows are rebuilt from the packet's S3 object whenever they are lost. A resumed load
-- counts the rows it finds against its last heartbeat and starts the packet over when they differ, so
-- a Postgres crash (which empties unlogged tables) costs time, never rows. No index: COPY stays fast,
-- and the only readers scan one packet's rows once.
create unlogged table packet_rows (
  packet_id bigint not null,
  row_number integer not null,
  contact_key text not null,
  appointment_key text,
  external_id text,
  first_name text not null,
  last_name text not null,
  middle_name text,
  phone_e164 text,
  email text,
  timezone text,
  phone_timezone text,
  zip text,
  state text,
  language text,
  consent_source text,
  provider text,
  provider_id text,
  location text,
  location_id text,
  starts_at timestamptz,
  appointment_timezone text,
  appointment_external_id text,
  appointment_status text,
  data jsonb not null default '{}'
);

-- set in the merge's own transaction: a retried merge finds it and does not merge twice
alter table data_packets add column merged_at timestamptz;

-- planning reads the appointments a packet touched; full-refresh feeds look for those it did not
create index appointments_last_packet on appointments (last_packet_id);

update companies
set settings = settings || '{
  "reminderPlan": [
    {"step": "sms-2d", "channel": "sms", "template": "appointment_reminder", "offset": {"days": -2}, "at": "10:00"},
    {"step": "voice-1d", "channel": "voice", "template": "appointment_reminder", "offset": {"days": -1}, "at": "17:00"},
    {"step": "sms-2h", "channel": "sms", "template": "appointment_reminder", "offset": {"hours": -2}}
  ],
  "fallbackChannel": "email"
}'::jsonb
where alias = 'demo-clinic';
