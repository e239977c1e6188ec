-- Replies act only on a message sent from the number they arrived at, and never on more than one
-- company's: a reply to a number several companies texted the phone from is kept, with who it could
-- have been for, and acts on nobody (lib/ingress/inbound-sms.ts).
alter table inbound_messages add column ambiguous boolean not null default false;
-- when ambiguous: each company's newest text to that phone from that number, [{companyId, messageId}]
alter table inbound_messages add column candidates jsonb not null default '[]';
create index inbound_messages_ambiguous on inbound_messages (received_at desc) where ambiguous;

-- A number a company owns is that company's on every account it is on, and never also shared:
-- otherwise a reply to it could not say whose it is. Rows of one address share one owner (or none).
create function herald_guard_sender_number_owner() returns trigger language plpgsql as $$
declare
  other bigint;
begin
  -- two writers of the same address take turns, so neither misses the other's row
  perform pg_advisory_xact_lock(hashtext('herald.sender_numbers:' || new.address));
  select company_id into other from sender_numbers
  where address = new.address and id <> new.id and company_id is distinct from new.company_id
  limit 1;
  if found then
    raise exception 'sender number % already belongs to %', new.address,
      coalesce('company ' || other, 'every company (shared)')
      using errcode = 'unique_violation';
  end if;
  return new;
end $$;
create trigger sender_numbers_owner before insert or update of address, company_id on sender_numbers
  for each row execute function herald_guard_sender_number_owner();
