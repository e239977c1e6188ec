-- One index per query that needs it, named for the query that reads it. Indexes nothing reads go:
-- each costs every insert of the merge or the reminder run an entry.

-- no query looks contacts up by their external id (the merge matches on the company's dedupe key)
drop index contacts_company_external;
-- a stopped sequence is found by its appointment (unique) or its contact, never by company and status
drop index reminder_enrollments_company_status;
-- herald never deletes a packet, the only thing that would look for its messages
drop index messages_packet;

-- the reminder region's screening pages and the run's due regions: a company's scheduled messages by region and time
alter index messages_company_region_due rename to messages_reminder_screening;
-- the archive's batches: a company's messages by age
alter index messages_company_contact_at rename to messages_archive;
-- an opt-out skips the person's pending messages
alter index messages_company_contact rename to messages_opt_out;
-- the due steps (reminder run, upcoming): a company's appointments ahead, by time
alter index appointments_company_starts rename to appointments_due_steps;
-- packets show: the appointments a packet wrote last
alter index appointments_last_packet rename to appointments_packet_show;
-- a stopped sequence (an opt-out, a reply) and a deleted contact: a person's appointments
alter index appointments_contact rename to appointments_of_contact;
-- replies, STOP and operators' opt-outs find people by phone or email
alter index contacts_company_phone rename to contacts_find_by_phone;
alter index contacts_company_email rename to contacts_find_by_email;
