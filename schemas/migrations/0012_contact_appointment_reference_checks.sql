-- A packet's merge writes its contacts and appointments by the hundred thousand; as with messages
-- (0011), their keys to companies, customers, locations, regions and packets are checked once per
-- statement instead of by per-row foreign keys (half of a 182k-appointment merge was those checks).
-- The distinct keys a statement's rows name are locked in their parents (FOR KEY SHARE, as a foreign
-- key's check locks them) and must all be there; a parent row still named cannot be deleted or
-- re-keyed. The same goes for the keys from messages to contacts and appointments (a plan's second
-- largest per-row cost after 0011) and from appointments to contacts.

alter table contacts
  drop constraint contacts_company_id_fkey,
  drop constraint contacts_customer_id_fkey,
  drop constraint contacts_location_id_fkey,
  drop constraint contacts_region_fkey,
  drop constraint contacts_first_packet_id_fkey,
  drop constraint contacts_last_packet_id_fkey;

alter table appointments
  drop constraint appointments_contact_id_fkey,
  drop constraint appointments_company_id_fkey,
  drop constraint appointments_customer_id_fkey,
  drop constraint appointments_location_id_fkey,
  drop constraint appointments_first_packet_id_fkey,
  drop constraint appointments_last_packet_id_fkey;

alter table messages
  drop constraint messages_contact_id_fkey,
  drop constraint messages_appointment_id_fkey;

-- Arguments: triples of (column, parent table, parent key). The statement's rows are `changed`.
create function herald_check_references() returns trigger language plpgsql as $$
declare
  i integer := 0;
  fk_column text;
  parent text;
  key_column text;
  wanted bigint;
  found bigint;
  missing text;
begin
  while i < tg_nargs loop
    fk_column := tg_argv[i];
    parent := tg_argv[i + 1];
    key_column := tg_argv[i + 2];
    i := i + 3;
    execute format('select count(distinct %I) from changed', fk_column) into wanted;
    if wanted = 0 then
      continue;
    end if;
    execute format('select count(*) from (select from %I p where p.%I in (select %I from changed) for key share of p) k',
                   parent, key_column, fk_column)
      into found;
    if found < wanted then
      execute format('select c.%1$I::text from changed c where c.%1$I is not null
                        and not exists (select from %2$I p where p.%3$I = c.%1$I) limit 1', fk_column, parent, key_column)
        into missing;
      raise exception 'insert or update on table "%" violates foreign key constraint "%_%_fkey"',
        tg_table_name, tg_table_name, fk_column
        using errcode = 'foreign_key_violation',
              detail = format('Key (%s)=(%s) is not present in table "%s".', fk_column, missing, parent);
    end if;
  end loop;
  return null;
end $$;

create trigger contacts_references after insert on contacts
  referencing new table as changed for each statement
  execute function herald_check_references('company_id', 'companies', 'id', 'customer_id', 'customers', 'id',
    'location_id', 'company_locations', 'id', 'region', 'regions', 'code',
    'first_packet_id', 'data_packets', 'id', 'last_packet_id', 'data_packets', 'id');
create trigger contacts_references_updated after update on contacts
  referencing new table as changed for each statement
  execute function herald_check_references('company_id', 'companies', 'id', 'customer_id', 'customers', 'id',
    'location_id', 'company_locations', 'id', 'region', 'regions', 'code',
    'first_packet_id', 'data_packets', 'id', 'last_packet_id', 'data_packets', 'id');
create trigger appointments_references after insert on appointments
  referencing new table as changed for each statement
  execute function herald_check_references('contact_id', 'contacts', 'id', 'company_id', 'companies', 'id',
    'customer_id', 'customers', 'id', 'location_id', 'company_locations', 'id',
    'first_packet_id', 'data_packets', 'id', 'last_packet_id', 'data_packets', 'id');
create trigger appointments_references_updated after update on appointments
  referencing new table as changed for each statement
  execute function herald_check_references('contact_id', 'contacts', 'id', 'company_id', 'companies', 'id',
    'customer_id', 'customers', 'id', 'location_id', 'company_locations', 'id',
    'first_packet_id', 'data_packets', 'id', 'last_packet_id', 'data_packets', 'id');

create trigger messages_contact_references after insert on messages
  referencing new table as changed for each statement
  execute function herald_check_references('contact_id', 'contacts', 'id', 'appointment_id', 'appointments', 'id');

-- a message moved to another contact or appointment (no code path does) is checked row by row: a
-- statement trigger on every update would cost each send a scan of its batch
create function herald_check_message_people_row() returns trigger language plpgsql as $$
begin
  perform from contacts where id = new.contact_id for key share;
  if not found then
    raise exception 'insert or update on table "messages" violates foreign key constraint "messages_contact_id_fkey"'
      using errcode = 'foreign_key_violation',
            detail = format('Key (contact_id)=(%s) is not present in table "contacts".', new.contact_id);
  end if;
  if new.appointment_id is not null then
    perform from appointments where id = new.appointment_id for key share;
    if not found then
      raise exception 'insert or update on table "messages" violates foreign key constraint "messages_appointment_id_fkey"'
        using errcode = 'foreign_key_violation',
              detail = format('Key (appointment_id)=(%s) is not present in table "appointments".', new.appointment_id);
    end if;
  end if;
  return null;
end $$;
create trigger messages_people_changed after update on messages
  for each row
  when (old.contact_id is distinct from new.contact_id or old.appointment_id is distinct from new.appointment_id)
  execute function herald_check_message_people_row();

-- The parent side. Arguments: pairs of (child table, child column); the parent's key is `key_column`
-- of type `key_type` (first two arguments).
create function herald_restrict_referenced() returns trigger language plpgsql as $$
declare
  key_column text := tg_argv[0];
  key_type text := tg_argv[1];
  old_key text := to_jsonb(old) ->> key_column;
  i integer := 2;
  referenced boolean;
begin
  if tg_op = 'UPDATE' and old_key is not distinct from to_jsonb(new) ->> key_column then
    return null;
  end if;
  while i < tg_nargs loop
    execute format('select exists (select from %I where %I = $1::%s)', tg_argv[i], tg_argv[i + 1], key_type)
      into referenced using old_key;
    if referenced then
      raise exception 'update or delete on table "%" violates foreign key constraint "%_%_fkey" on table "%"',
        tg_table_name, tg_argv[i], tg_argv[i + 1], tg_argv[i]
        using errcode = 'foreign_key_violation',
              detail = format('Key (%s)=(%s) is still referenced from table "%s".', key_column, old_key, tg_argv[i]);
    end if;
    i := i + 2;
  end loop;
  return null;
end $$;

create trigger companies_restrict after delete or update of id on companies
  for each row execute function herald_restrict_referenced('id', 'bigint',
    'contacts', 'company_id', 'appointments', 'company_id');
create trigger customers_restrict after delete or update of id on customers
  for each row execute function herald_restrict_referenced('id', 'bigint',
    'contacts', 'customer_id', 'appointments', 'customer_id');
create trigger company_locations_restrict after delete or update of id on company_locations
  for each row execute function herald_restrict_referenced('id', 'bigint',
    'contacts', 'location_id', 'appointments', 'location_id');
create trigger regions_restrict after delete or update of code on regions
  for each row execute function herald_restrict_referenced('code', 'text', 'contacts', 'region');
create trigger contacts_restrict after delete or update of id on contacts
  for each row execute function herald_restrict_referenced('id', 'bigint',
    'appointments', 'contact_id', 'messages', 'contact_id');
create trigger appointments_restrict after delete or update of id on appointments
  for each row execute function herald_restrict_referenced('id', 'bigint', 'messages', 'appointment_id');
create trigger data_packets_restrict after delete or update of id on data_packets
  for each row execute function herald_restrict_referenced('id', 'bigint',
    'contacts', 'first_packet_id', 'contacts', 'last_packet_id',
    'appointments', 'first_packet_id', 'appointments', 'last_packet_id');
