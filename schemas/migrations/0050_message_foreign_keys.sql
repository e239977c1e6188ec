-- Messages have real foreign keys again. Migrations 0011 and 0012 replaced them with reference checks
-- once per statement because ingest planned messages by the million; the reminder run now makes them
-- when due, a few thousand per statement at a busy moment, where a key check per row costs little.
-- Contacts and appointments keep their checks per statement: the merge writes them by the million,
-- and real keys made its Postgres CPU 65-85 % higher (npm run bench:ingest-stages -- --foreign-keys
-- real, docs/benchmarks.md).

drop trigger messages_references on messages;
drop trigger messages_references_changed on messages;
drop trigger messages_contact_references on messages;
drop trigger messages_people_changed on messages;
drop function herald_check_message_references();
drop function herald_check_message_references_row();
drop function herald_check_message_people_row();
drop function herald_lock_message_parents(regclass, text, text, anyarray);

drop trigger companies_messages_restrict on companies;
drop trigger customers_messages_restrict on customers;
drop trigger company_locations_messages_restrict on company_locations;
drop trigger data_packets_messages_restrict on data_packets;
drop trigger regions_messages_restrict on regions;
drop trigger message_states_messages_restrict on message_states;
drop function herald_restrict_referenced_by_messages();

-- the parents' checks that named messages name only contacts and appointments now
drop trigger contacts_restrict on contacts;
create trigger contacts_restrict after delete or update of id on contacts
  for each row execute function herald_restrict_referenced('id', 'bigint', 'appointments', 'contact_id');
drop trigger appointments_restrict on appointments;

alter table messages
  add constraint messages_company_id_fkey foreign key (company_id) references companies (id) not valid,
  add constraint messages_customer_id_fkey foreign key (customer_id) references customers (id) not valid,
  add constraint messages_location_id_fkey foreign key (location_id) references company_locations (id) not valid,
  add constraint messages_packet_id_fkey foreign key (packet_id) references data_packets (id) not valid,
  add constraint messages_region_fkey foreign key (region) references regions (code) not valid,
  add constraint messages_state_fkey foreign key (state) references message_states (state) not valid,
  add constraint messages_contact_id_fkey foreign key (contact_id) references contacts (id) not valid,
  add constraint messages_appointment_id_fkey foreign key (appointment_id) references appointments (id) not valid;
alter table messages validate constraint messages_company_id_fkey;
alter table messages validate constraint messages_customer_id_fkey;
alter table messages validate constraint messages_location_id_fkey;
alter table messages validate constraint messages_packet_id_fkey;
alter table messages validate constraint messages_region_fkey;
alter table messages validate constraint messages_state_fkey;
alter table messages validate constraint messages_contact_id_fkey;
alter table messages validate constraint messages_appointment_id_fkey;
