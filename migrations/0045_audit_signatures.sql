-- Seals signed with a key kept outside the database (Ed25519): whoever can
-- rewrite the tables and recompute every hash still cannot sign a seal. The
-- signature covers the seal's hash, which covers everything before it.
alter table audit_seals add column key_id text check (key_id is null or key_id ~ '^[0-9a-f]{16}$');
alter table audit_seals add column signature text check (signature is null or length(signature) between 80 and 100);
alter table audit_seals add constraint audit_seals_signed_whole check ((key_id is null) = (signature is null));

-- When a stream's newest event happened: a writer takes its time as at least
-- this, so two servers whose clocks differ a little never write a stream's
-- events out of order.
alter table audit_streams add column head_at timestamptz;

-- Time never goes backwards within a stream: an event cannot be appended with
-- a time before the event it follows (checked against the event itself, which
-- the application cannot change, not against the head row, which it updates).
create function audit_events_in_time() returns trigger language plpgsql as $$
declare
  previous timestamptz;
begin
  if new.seq > 1 then
    select occurred_at into previous from audit_events where stream = new.stream and seq = new.seq - 1;
    if previous is not null and new.occurred_at < previous then
      raise exception 'audit event % of stream % is dated % , before the event it follows (%)', new.seq, new.stream, new.occurred_at, previous
        using errcode = 'check_violation', constraint = 'audit_events_in_time';
    end if;
  end if;
  return new;
end;
$$;
create trigger audit_events_in_time before insert on audit_events
  for each row execute function audit_events_in_time();

-- Seals follow one another in time too.
create function audit_seals_in_time() returns trigger language plpgsql as $$
declare
  previous timestamptz;
begin
  select sealed_at into previous from audit_seals where seq = new.seq - 1;
  if previous is not null and new.sealed_at < previous then
    raise exception 'audit seal % is dated %, before the seal it follows (%)', new.seq, new.sealed_at, previous
      using errcode = 'check_violation', constraint = 'audit_seals_in_time';
  end if;
  return new;
end;
$$;
create trigger audit_seals_in_time before insert on audit_seals
  for each row execute function audit_seals_in_time();
