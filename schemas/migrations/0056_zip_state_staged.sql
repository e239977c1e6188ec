-- A ZIP's state is looked up once, in lib/clean/zip-prefix.ts, when a row is mapped (five-digit
-- exceptions such as Fishers Island, NY and the Pacific territories included), and staged with the row;
-- the merge reads it from there. zip_prefixes, a copy of the three-digit part only, goes: it disagreed
-- with the code on those exceptions and on military ZIPs (their states have no region_states row).
alter table packet_rows add column zip_state text;
-- rows staged before this migration and not merged yet keep the state the copy gave them
update packet_rows r set zip_state = z.state
from zip_prefixes z
where r.zip is not null and z.prefix = left(r.zip, 3);
drop table zip_prefixes;
