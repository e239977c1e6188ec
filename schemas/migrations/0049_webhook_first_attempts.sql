-- Webhook deliveries from the outbox get their first attempt inside the drainer, many at once, with one
-- statement to claim a batch and one to record it; only a delivery that must be retried gets a
-- deliverWebhook workflow. One workflow per delivery managed about 40 deliveries a second.

-- A drainer claims a delivery for as long as its attempt may take; a claim that outlives that (the
-- drainer died) is taken up again, as a retry, by a workflow.
alter table webhook_deliveries add column lease_until timestamptz;

-- An attempt is recorded when it starts, as 'unknown' until its answer is written over it: an
-- attempt whose drainer died mid-request stays recorded as one whose answer nobody heard.
alter table webhook_attempts drop constraint webhook_attempts_outcome_check;
alter table webhook_attempts add constraint webhook_attempts_outcome_check
  check (outcome in ('delivered', 'retry', 'permanent', 'unknown'));

-- the drainer's claim: deliveries no workflow has, not finished; a delivered one leaves the index
drop index webhook_deliveries_undrained;
create index webhook_deliveries_drainer on webhook_deliveries (id)
  where workflow_id is null and status in ('pending', 'delivering');
