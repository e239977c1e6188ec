-- Shares of each send cap leased by the worker processes sending under it (lib/rates/window-shares.ts):
-- a process's send window counts against its share, and the shares of one limiter never add up to
-- more than its cap, so the cap holds at the vendor however many processes send for one account.

-- One row per limiter key, locked (select ... for update) by every change to its shares.
create table send_window_limits (
  key text primary key
);

create table send_window_shares (
  key text not null references send_window_limits (key) on delete cascade,
  -- one id per worker process, drawn at its start
  holder text not null,
  -- sends per second its window may count
  have integer not null check (have >= 0),
  -- it has sends waiting or going under this cap (a fair split counts only these)
  wants boolean not null,
  -- renewed every few hundred ms; a process that cannot renew stops sending before this
  expires_at timestamptz not null,
  -- after expiry its last requests may still be on their way (their timeout, the second they count
  -- in, a margin): only then may another process take the share
  grace_ms integer not null check (grace_ms >= 0),
  primary key (key, holder)
);
