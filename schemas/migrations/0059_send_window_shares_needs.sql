-- What each process's send window needs (lib/rates/fair-share.ts): the cap is split by it, so a share
-- follows the sends a process has coming rather than splitting evenly between every process whose
-- window ran full.
alter table send_window_shares
  -- the places its window would count a moment from now had it room: those it will still count, and `coming`
  add column needs integer not null default 0 check (needs >= 0),
  -- the sends that want a place by then: waiting, announced as due (their send times reserved), or
  -- owed for the time its earliest announced send is late
  add column coming integer not null default 0 check (coming >= 0);

comment on column send_window_shares.wants is 'hungry: it has sends coming (waiting, or due within moments)';
