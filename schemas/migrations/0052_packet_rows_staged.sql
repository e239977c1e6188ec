-- How many staging rows a packet's staging committed. packet_rows is unlogged (cheap to fill), so crash
-- recovery empties it and a standby never has it: the merge compares the rows it finds with this count
-- and has the packet staged again when they differ, instead of merging what is left. Null until a
-- staging has finished (and again once a new staging of the packet starts).
alter table data_packets add column rows_staged integer;
