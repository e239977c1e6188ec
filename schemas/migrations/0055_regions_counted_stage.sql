-- The stage after the merge records the packet's contacts counted by region (the merge itself gives
-- each contact its region); it was called `sharded`, though nothing is split. Packets and their stage
-- logs take the new name. A worker of the earlier release that writes `sharded` after this migration is
-- refused, and its activity retry runs on an upgraded worker, which writes `regions_counted`.
alter table data_packets drop constraint data_packets_stage_check;
update data_packets set stage = 'regions_counted' where stage = 'sharded';
update packet_events set stage = 'regions_counted' where stage = 'sharded';
alter table data_packets add constraint data_packets_stage_check check (stage in (
  'received', 'fetched', 'parsed', 'loaded', 'regions_counted', 'planned', 'done', 'failed', 'cancelled',
  'held'));
