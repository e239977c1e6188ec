-- The merge runs beside staging and reads each committed chunk of a packet's staged rows by row
-- number (lib/ingest/merge.ts); a resumed staging deletes the rows past its resume point the same way.
create index packet_rows_merge_range on packet_rows (packet_id, row_number);
