-- A packet stages at most one row per row number, and the merge relies on it: it finds each contact's
-- last row in a range by row number and reads that row back (lib/ingest/merge-rows.ts). The index
-- that reads ranges by row number now also refuses a second row with the same number.
drop index packet_rows_merge_range;
create unique index packet_rows_merge_range on packet_rows (packet_id, row_number);
