-- Send leases: which attempt of a send batch may call the provider for the messages the batch claims.
--
-- An attempt holds its batch's lease (token = messages.dispatch_token) while it sends and renews it;
-- it calls the provider only while its own clock says the lease is still its. A new attempt of the
-- same batch takes the lease over at once (the old one can no longer claim: claims check the holder
-- in their transaction), but it touches the old attempt's 'sending' messages only after fence_until:
-- the old holder's expiry plus the longest a request it started may still take to reach the vendor.
-- lib/send-lease.ts is the only writer.
create table send_leases (
  token text primary key,
  holder text not null,
  expires_at timestamptz not null,
  -- how long after expires_at a request of this holder may still land at the vendor
  grace_ms integer not null check (grace_ms >= 0),
  -- the holders before this one may have requests landing until then
  fence_until timestamptz not null default '-infinity',
  taken_at timestamptz not null default now()
);

-- a sweeper's reconciliation that asks the vendor again and finds nothing proves it never got the
-- message, as a batch's own reconciliation does for 'sending'
insert into message_state_transitions (from_state, to_state) values ('unknown', 'scheduled')
on conflict do nothing;

-- the attempt (send_leases.holder) that claimed a message: only it records what its own calls did,
-- so a stale attempt's late write cannot touch a message a newer attempt has taken on
alter table messages add column claimed_by text;
alter table messages_history add column claimed_by text;
