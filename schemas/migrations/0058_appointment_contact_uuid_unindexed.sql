-- No query reads a contact or an appointment by its uuid (it only leaves the system, in upcoming
-- reminders and events), so their unique indexes on it had no reader. The one on appointments cost
-- a random-key index entry for every appointment a file merges (docs/benchmarks.md). Both uuids
-- still come from gen_random_uuid(): 122 random bits, unique without an index to say so.
alter table contacts drop constraint contacts_uuid_key;
alter table appointments drop constraint appointments_uuid_key;
