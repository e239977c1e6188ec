-- Voice is charged per started minute: the first minute is debited when the call is placed (kind
-- 'debit'), the minutes past it when Twilio's completion callback reports the duration (kind
-- 'call_minutes'), at most once per message, whatever number of times the callback arrives.
alter table credit_ledger drop constraint credit_ledger_kind_check;
alter table credit_ledger add constraint credit_ledger_kind_check
  check (kind in ('purchase', 'debit', 'call_minutes', 'refund', 'adjustment'));
alter table credit_ledger drop constraint credit_ledger_check;
alter table credit_ledger add constraint credit_ledger_sign_check
  check ((kind in ('debit', 'call_minutes')) = (credits < 0) or kind = 'adjustment');
create unique index credit_ledger_message_call_minutes on credit_ledger (message_id) where kind = 'call_minutes';
