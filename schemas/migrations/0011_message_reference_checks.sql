-- Messages are planned by the million per packet. A foreign key checks each new row on its own (an
-- index probe and a row lock in the parent per row and per key): for a 544k-message plan the six keys
-- to companies, customers, locations, packets, regions and states cost more than the insert itself.
-- They become one check per statement: the distinct keys of the new rows are locked in their parent
-- tables (FOR KEY SHARE, as a foreign key's check locks them) and must all be there; a parent row
-- messages still name cannot be deleted or re-keyed. The keys to contacts and appointments stay real
-- foreign keys (many distinct parents per plan, and the rows people's data hangs on).

-- nobody reads messages by region without the company: messages_company_region_due serves those reads
drop index messages_due;

alter table messages
  drop constraint messages_company_id_fkey,
  drop constraint messages_customer_id_fkey,
  drop constraint messages_location_id_fkey,
  drop constraint messages_packet_id_fkey,
  drop constraint messages_region_fkey,
  drop constraint messages_state_fkey;

-- Locks the rows of `parent` whose `key_column` is in `wanted`; every wanted key must be there.
create function herald_lock_message_parents(parent regclass, key_column text, fk_column text, wanted anyarray)
returns void language plpgsql as $$
declare
  found integer;
  missing text;
begin
  if cardinality(wanted) = 0 then
    return;
  end if;
  execute format('select count(*) from (select from %s where %I = any($1) for key share) k', parent, key_column)
    into found using wanted;
  if found < cardinality(wanted) then
    execute format('select w::text from unnest($1) w where not exists (select from %s p where p.%I = w) limit 1',
                   parent, key_column)
      into missing using wanted;
    raise exception 'insert or update on table "messages" violates foreign key constraint "messages_%_fkey"', fk_column
      using errcode = 'foreign_key_violation',
            detail = format('Key (%s)=(%s) is not present in table "%s".', fk_column, missing, parent);
  end if;
end $$;

create function herald_check_message_references() returns trigger language plpgsql as $$
begin
  perform herald_lock_message_parents('companies', 'id', 'company_id',
    array(select distinct company_id from inserted));
  perform herald_lock_message_parents('customers', 'id', 'customer_id',
    array(select distinct customer_id from inserted where customer_id is not null));
  perform herald_lock_message_parents('company_locations', 'id', 'location_id',
    array(select distinct location_id from inserted where location_id is not null));
  perform herald_lock_message_parents('data_packets', 'id', 'packet_id',
    array(select distinct packet_id from inserted where packet_id is not null));
  perform herald_lock_message_parents('regions', 'code', 'region',
    array(select distinct region from inserted));
  perform herald_lock_message_parents('message_states', 'state', 'state',
    array(select distinct state from inserted));
  return null;
end $$;
create trigger messages_references after insert on messages
  referencing new table as inserted for each statement execute function herald_check_message_references();

-- An update that changes one of the keys (rare: no code path does) is checked row by row. A state
-- change needs no check here: herald_guard_message_state allows only listed transitions, whose
-- states message_state_transitions holds by foreign key.
create function herald_check_message_references_row() returns trigger language plpgsql as $$
begin
  perform herald_lock_message_parents('companies', 'id', 'company_id', array[new.company_id]);
  perform herald_lock_message_parents('customers', 'id', 'customer_id', array_remove(array[new.customer_id], null));
  perform herald_lock_message_parents('company_locations', 'id', 'location_id', array_remove(array[new.location_id], null));
  perform herald_lock_message_parents('data_packets', 'id', 'packet_id', array_remove(array[new.packet_id], null));
  perform herald_lock_message_parents('regions', 'code', 'region', array[new.region]);
  return null;
end $$;
create trigger messages_references_changed after update on messages
  for each row
  when (old.company_id is distinct from new.company_id or old.customer_id is distinct from new.customer_id
     or old.location_id is distinct from new.location_id or old.packet_id is distinct from new.packet_id
     or old.region is distinct from new.region)
  execute function herald_check_message_references_row();

-- The parent side: a row messages still name is neither deleted nor re-keyed (what the foreign keys'
-- default NO ACTION did). Checked after the statement's row change, like theirs; a delete that waits
-- for a planning transaction's lock sees its messages once that commits.
create function herald_restrict_referenced_by_messages() returns trigger language plpgsql as $$
declare
  fk_column text := tg_argv[0];
  key_column text := tg_argv[1];
  -- the key's type, so the lookup compares like with like and can use an index on messages
  key_type text := tg_argv[2];
  old_key text := to_jsonb(old) ->> key_column;
  referenced boolean;
begin
  if tg_op = 'UPDATE' and old_key is not distinct from to_jsonb(new) ->> key_column then
    return null;
  end if;
  execute format('select exists (select from messages where %I = $1::%s)', fk_column, key_type)
    into referenced using old_key;
  if referenced then
    raise exception 'update or delete on table "%" violates foreign key constraint "messages_%_fkey" on table "messages"',
      tg_table_name, fk_column
      using errcode = 'foreign_key_violation',
            detail = format('Key (%s)=(%s) is still referenced from table "messages".', key_column, old_key);
  end if;
  return null;
end $$;

create trigger companies_messages_restrict after delete or update of id on companies
  for each row execute function herald_restrict_referenced_by_messages('company_id', 'id', 'bigint');
create trigger customers_messages_restrict after delete or update of id on customers
  for each row execute function herald_restrict_referenced_by_messages('customer_id', 'id', 'bigint');
create trigger company_locations_messages_restrict after delete or update of id on company_locations
  for each row execute function herald_restrict_referenced_by_messages('location_id', 'id', 'bigint');
create trigger data_packets_messages_restrict after delete or update of id on data_packets
  for each row execute function herald_restrict_referenced_by_messages('packet_id', 'id', 'bigint');
create trigger regions_messages_restrict after delete or update of code on regions
  for each row execute function herald_restrict_referenced_by_messages('region', 'code', 'text');
create trigger message_states_messages_restrict after delete or update of state on message_states
  for each row execute function herald_restrict_referenced_by_messages('state', 'state', 'text');
