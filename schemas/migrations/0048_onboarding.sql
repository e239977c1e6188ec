-- Onboarding and running companies from the CLI.

-- Credits an operator grants or takes away are audited beside the company's other changes (the ledger
-- row keeps its actor too). Debits, one per message sent, are not: the ledger is their record.
create trigger credit_ledger_audit after insert on credit_ledger for each row
  when (new.kind in ('purchase', 'adjustment', 'refund'))
  execute function herald_audit();
