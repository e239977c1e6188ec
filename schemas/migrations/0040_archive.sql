-- Archival: the indexes its page queries use, and the record of workflow histories already exported.

-- a company's messages by age: the archive workflow's page query (final state is checked per row,
-- because message_states.final, not a list of states, says what is final)
create index messages_company_contact_at on messages (company_id, contact_at, id);

-- packet events and audit rows are purged per company by age
create index packet_events_company_at on packet_events (company_id, at);

-- finished workflow histories exported to S3 (histories/<type>/<workflowId>/<runId>.json); a run is
-- exported once, so the nightly export only reads what closed since
create table workflow_history_exports (
  workflow_id text not null,
  run_id text not null,
  workflow_type text not null,
  object_key text not null,
  events integer not null,
  closed_at timestamptz,
  exported_at timestamptz not null default now(),
  primary key (workflow_id, run_id)
);
create index workflow_history_exports_exported on workflow_history_exports (exported_at);
