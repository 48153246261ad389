-- Idempotency keys: the first answer to a key is kept and replayed.
create table idempotency_keys (
  user_id uuid not null,
  key text not null check (length(key) between 1 and 200),
  scope text not null,
  request_hash text not null,
  status smallint,
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (user_id, key)
);

-- Long work (imports, solving, reports) with progress the CLI and web app show.
create table jobs (
  id uuid primary key,
  kind text not null check (length(kind) between 1 and 64),
  state text not null default 'queued' check (state in ('queued', 'running', 'succeeded', 'failed')),
  done bigint not null default 0 check (done >= 0),
  total bigint check (total >= 0),
  message text,
  result jsonb,
  error jsonb,
  created_by uuid references users (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index jobs_created_by on jobs (created_by, created_at desc);
