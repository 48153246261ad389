-- What the last seal recorded per stream: lets a seal list only the streams
-- that changed since. Bookkeeping for the sealer only; verification never
-- trusts it (it trusts the hash-chained audit_seals). Writers never touch it,
-- so sealing takes no lock a writer waits for.
create table audit_sealed_streams (
  stream text primary key,
  seq bigint not null check (seq >= 1),
  hash text not null
);

create index audit_events_actor on audit_events (actor_id, occurred_at, id);
create index audit_events_action on audit_events (action, occurred_at, id);
