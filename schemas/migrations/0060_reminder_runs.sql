-- How many messages each reminder run made, over all its attempts.
--
-- The run's first statement (lib/messages/create-due.ts) makes the messages of steps now due and adds
-- how many it made to its run's row, in one statement: an attempt that committed and was then retried
-- (a timeout, a worker restart, a failed workflow task replaying its local activity) left its count
-- here, so the retry reports what the run made, not only what was left for it. That statement is the
-- only writer; it also forgets its company's rows older than a week (a run is retried within minutes).
create table reminder_runs (
  company_id bigint not null references companies (id) on delete cascade,
  -- the Temporal run id of the reminderRun execution: its attempts and replays share it, a new
  -- execution (even under the same workflow id) does not
  run_id text not null,
  -- the run's clock (its `now`)
  run_at timestamptz not null,
  created integer not null check (created >= 0),
  recorded_at timestamptz not null default now(),
  primary key (company_id, run_id)
);
