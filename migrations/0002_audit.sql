-- Tamper-evident audit trail. Events are chained per stream (one aggregate,
-- e.g. the lineage of one root sample), so unrelated writes never wait on one
-- another; seals chain the stream heads into one global chain.
create table audit_streams (
  stream text primary key check (length(stream) between 1 and 200),
  seq bigint not null check (seq >= 0),
  head_hash text not null
);

create table audit_events (
  id uuid primary key,
  stream text not null,
  seq bigint not null check (seq >= 1),
  occurred_at timestamptz not null,
  actor_id uuid,
  action text not null check (length(action) between 1 and 100),
  entity_type text not null,
  entity_id text,
  data jsonb not null default '{}'::jsonb,
  request_id text,
  prev_hash text not null,
  hash text not null,
  unique (stream, seq)
);
create index audit_events_occurred on audit_events (occurred_at, id);
create index audit_events_entity on audit_events (entity_type, entity_id);

create table audit_seals (
  seq bigint primary key check (seq >= 1),
  sealed_at timestamptz not null,
  heads jsonb not null,
  prev_hash text not null,
  hash text not null
);

-- Append-only: the application cannot change or remove what it recorded.
create function audit_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'the audit trail is append-only (% on %)', tg_op, tg_table_name
    using errcode = 'insufficient_privilege';
end;
$$;
create trigger audit_events_append_only before update or delete on audit_events
  for each row execute function audit_refuse_change();
create trigger audit_events_no_truncate before truncate on audit_events
  for each statement execute function audit_refuse_change();
create trigger audit_seals_append_only before update or delete on audit_seals
  for each row execute function audit_refuse_change();
create trigger audit_seals_no_truncate before truncate on audit_seals
  for each statement execute function audit_refuse_change();
