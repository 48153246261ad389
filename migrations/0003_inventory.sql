-- The exact inventory: collections, storage locations, samples and their ledger.
-- Quantities are BIGINT counts of the collection's smallest unit (10^-scale of its unit).
create table collections (
  id uuid primary key,
  code text not null unique check (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
  name text not null check (length(name) between 1 and 200),
  description text check (length(description) <= 5000),
  unit text not null check (unit in ('g', 'mg', 'mL', 'count')),
  scale smallint not null check (scale between 0 and 6),
  human_consent boolean not null default false,
  kinds text[] not null default '{}',
  biosafety_level smallint check (biosafety_level between 1 and 4),
  institution_id uuid references institutions (id),
  created_at timestamptz not null default now(),
  check (unit <> 'count' or scale = 0)
);

-- site → freezer | cabinet → rack | shelf → box; a box is a grid of positions.
create table locations (
  id uuid primary key,
  parent_id uuid references locations (id),
  kind text not null check (kind in ('site', 'room', 'freezer', 'cabinet', 'rack', 'shelf', 'box')),
  code text not null check (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
  name text not null check (length(name) between 1 and 200),
  rows smallint check (rows between 1 and 100),
  cols smallint check (cols between 1 and 100),
  created_at timestamptz not null default now(),
  check ((kind = 'box') = (rows is not null and cols is not null)),
  check ((kind = 'site') = (parent_id is null))
);
create unique index locations_code_in_parent on locations (coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid), code);

create table samples (
  id uuid primary key,
  collection_id uuid not null references collections (id),
  identifier text not null check (length(identifier) between 1 and 64 and identifier !~ '\s'),
  kind text not null check (length(kind) between 1 and 64),
  quantity bigint not null check (quantity >= 0),
  reserved bigint not null default 0 check (reserved >= 0),
  state text not null default 'available'
    check (state in ('available', 'reserved', 'on_loan', 'in_transit', 'returned', 'consumed', 'destroyed', 'quarantined')),
  parent_id uuid references samples (id),
  -- The whole lineage shares its root: one shard key, one audit stream.
  root_id uuid not null,
  -- Next split number under this root's generic identifier (used on roots only).
  next_split integer not null default 1 check (next_split >= 1),
  location_id uuid references locations (id),
  position text check (position ~ '^[A-Z]{1,2}[0-9]{1,3}$'),
  attributes jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- No over-commitment, whatever the code does.
  check (reserved <= quantity),
  check (state not in ('consumed', 'destroyed') or (quantity = 0 and reserved = 0)),
  check ((parent_id is null) = (root_id = id)),
  check (position is null or location_id is not null)
);
create unique index samples_identifier_key on samples (identifier);
-- One sample per box position.
create unique index samples_position_key on samples (location_id, position) where position is not null;
create index samples_collection on samples (collection_id, identifier);
create index samples_parent on samples (parent_id);
create index samples_root on samples (root_id);
create index samples_location on samples (location_id);
create index samples_kind on samples (collection_id, kind);
create index samples_state on samples (state);
create index samples_identifier_prefix on samples (identifier text_pattern_ops);

create table reservations (
  id uuid primary key,
  sample_id uuid not null references samples (id),
  quantity bigint not null check (quantity > 0),
  application_id uuid,
  note text check (length(note) <= 1000),
  state text not null default 'active' check (state in ('active', 'released', 'fulfilled')),
  created_by uuid references users (id),
  created_at timestamptz not null default now(),
  closed_at timestamptz,
  check ((state = 'active') = (closed_at is null))
);
create index reservations_sample on reservations (sample_id) where state = 'active';
create index reservations_application on reservations (application_id);

-- The ledger: every change of a sample's quantity, reservation or state.
-- delta and reserved_delta are what the entry changed; quantity_after and
-- reserved_after what the sample held after it.
create table movements (
  id uuid primary key,
  sample_id uuid not null references samples (id),
  root_id uuid not null,
  kind text not null check (kind in (
    'create', 'split-out', 'split-in', 'loss', 'reserve', 'release', 'consume', 'ship',
    'receive', 'return', 'adjust', 'destroy', 'move', 'state')),
  delta bigint not null default 0,
  reserved_delta bigint not null default 0,
  quantity_after bigint not null check (quantity_after >= 0),
  reserved_after bigint not null check (reserved_after >= 0 and reserved_after <= quantity_after),
  counterpart_id uuid references samples (id),
  reservation_id uuid references reservations (id),
  state_after text not null,
  reason text check (length(reason) <= 2000),
  actor_id uuid references users (id),
  request_id text,
  occurred_at timestamptz not null default now(),
  seq bigint generated always as identity
);
create index movements_sample on movements (sample_id, seq);
create index movements_root on movements (root_id, kind);
