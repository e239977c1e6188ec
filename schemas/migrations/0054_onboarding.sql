-- Onboarding and running companies from the CLI.

-- Credits an operator grants or takes away are audited beside the company's other changes (the ledger
-- row keeps its actor too). Debits, one per message sent, are not: the ledger is their record.
create trigger credit_ledger_audit after insert on credit_ledger for each row
  when (new.kind in ('purchase', 'adjustment', 'refund'))
  execute function herald_audit();

-- A packet an operator must look at before it loads (its header drifted from the map, or its text
-- looks like UTF-8 read as Windows-1252): held, with the reason in `error`, until released.
alter table data_packets drop constraint data_packets_stage_check;
alter table data_packets add constraint data_packets_stage_check check (stage in (
  'received', 'fetched', 'parsed', 'loaded', 'sharded', 'planned', 'done', 'failed', 'cancelled', 'held'));

-- Per source, what a changed header does (hold the packet, or load it with the new columns as extras)
-- and what text that looks garbled does (warn and load, or hold).
alter table data_ingest_sources
  add column on_drift text not null default 'hold' check (on_drift in ('hold', 'evolve')),
  add column on_garbled_text text not null default 'warn' check (on_garbled_text in ('warn', 'hold'));
