-- Shipments of reserved material to an application's recipient, their custody
-- events, and the incidents a discrepancy on receipt opens.
create table shipments (
  id uuid primary key,
  reference text not null unique check (reference ~ '^SHP-[0-9A-F]{10}$'),
  application_id uuid not null references applications (id),
  state text not null default 'prepared' check (state in ('prepared', 'packed', 'dispatched', 'received', 'cancelled')),
  note text check (length(note) <= 2000),
  -- Due dates the loan opened on receipt takes (null: the defaults).
  loan_due_at timestamptz,
  report_due_at timestamptz,
  courier text check (length(courier) between 1 and 200),
  tracking_number text check (length(tracking_number) between 1 and 200),
  receipt_note text check (length(receipt_note) <= 5000),
  created_by uuid references users (id),
  created_at timestamptz not null default now(),
  packed_at timestamptz,
  packed_by uuid references users (id),
  dispatched_at timestamptz,
  dispatched_by uuid references users (id),
  received_at timestamptz,
  received_by uuid references users (id),
  cancelled_at timestamptz,
  updated_at timestamptz not null default now(),
  check (state not in ('packed', 'dispatched', 'received') or packed_at is not null),
  check ((state in ('dispatched', 'received')) = (dispatched_at is not null)),
  check (dispatched_at is null or (courier is not null and tracking_number is not null)),
  check ((state = 'received') = (received_at is not null)),
  check ((state = 'cancelled') = (cancelled_at is not null)),
  check (cancelled_at is null or dispatched_at is null)
);
create index shipments_application on shipments (application_id, created_at);
create index shipments_state on shipments (state, created_at, id);

-- One reserved sample in a shipment: the reservation it fulfils and what the recipient found.
create table shipment_items (
  shipment_id uuid not null references shipments (id),
  sample_id uuid not null references samples (id),
  reservation_id uuid not null references reservations (id),
  quantity bigint not null check (quantity > 0),
  position smallint not null check (position >= 0),
  received_quantity bigint check (received_quantity >= 0),
  condition text check (condition in ('intact', 'damaged', 'missing')),
  receipt_note text check (length(receipt_note) <= 2000),
  -- Items of a cancelled shipment stay for the record and free their reservation.
  cancelled boolean not null default false,
  primary key (shipment_id, sample_id),
  check ((received_quantity is null) = (condition is null))
);
-- A reservation travels in one live shipment at most.
create unique index shipment_items_reservation on shipment_items (reservation_id) where not cancelled;
create index shipment_items_sample on shipment_items (sample_id);

-- Chain of custody: who did what to the package, when.
create table shipment_events (
  id uuid primary key,
  shipment_id uuid not null references shipments (id),
  kind text not null check (kind in ('created', 'packed', 'dispatched', 'received', 'cancelled', 'incident-opened', 'incident-resolved')),
  actor_id uuid references users (id),
  occurred_at timestamptz not null default clock_timestamp(),
  data jsonb not null default '{}'::jsonb check (jsonb_typeof(data) = 'object'),
  seq bigint generated always as identity
);
create index shipment_events_shipment on shipment_events (shipment_id, seq);

-- A discrepancy found on receipt, open until a curator resolves it.
create table shipment_incidents (
  id uuid primary key,
  shipment_id uuid not null references shipments (id),
  application_id uuid not null references applications (id),
  sample_id uuid not null references samples (id),
  kind text not null check (kind in ('quantity', 'condition', 'missing')),
  expected bigint not null check (expected >= 0),
  found bigint not null check (found >= 0),
  condition text not null check (condition in ('intact', 'damaged', 'missing')),
  description text not null check (length(description) between 1 and 2000),
  state text not null default 'open' check (state in ('open', 'resolved')),
  action text check (action in ('accept', 'adjust')),
  resolution text check (length(resolution) between 1 and 5000),
  resolved_by uuid references users (id),
  resolved_at timestamptz,
  created_at timestamptz not null default now(),
  check ((state = 'resolved') = (resolved_at is not null)),
  check ((state = 'resolved') = (action is not null and resolution is not null)),
  unique (shipment_id, sample_id)
);
create index shipment_incidents_state on shipment_incidents (state, created_at, id);
create index shipment_incidents_application on shipment_incidents (application_id, state);
