-- How long a company's packets keep what holds personal data beside the loaded rows: the rejected rows
-- (packet_rejects: raw values and rows, reasons quoting them), the rejects report and the raw file in
-- S3. The nightly archive deletes them once a finished packet is older than this and marks the packet
-- (files_purged_at); its counts, stage and stage log stay.
alter table companies add column packet_retention_days integer not null default 30
  check (packet_retention_days between 1 and 3650);
alter table data_packets add column files_purged_at timestamptz;

-- an S3 source's object used in place keeps its key when the company replaces it (a new packet): the
-- purge of the old packet must find the newer one and leave the object alone
create index data_packets_object_key on data_packets (object_key);
