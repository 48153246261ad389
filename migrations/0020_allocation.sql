-- Allocations: which (sub)samples and quantities go to each approved application
-- of a call. A proposal (draft) is edited and approved by the chair; executing it
-- splits the parent samples and reserves each new subsample to its application.
create table allocations (
  id uuid primary key,
  call_id uuid not null references calls (id),
  state text not null default 'draft' check (state in ('draft', 'approved', 'executed', 'superseded')),
  -- Who produced the quantities: the solver, the greedy fallback, or the chair's edits on top of either.
  solver text not null check (solver in ('highs', 'greedy')),
  solver_status text check (length(solver_status) <= 200),
  fallback_reason text check (length(fallback_reason) <= 2000),
  edited boolean not null default false,
  -- Score-weighted share of the offer handed out (not a quantity; a double is fine).
  objective double precision not null,
  greedy_objective double precision not null,
  bound double precision,
  elapsed_ms integer not null check (elapsed_ms >= 0),
  -- The rules it was proposed under, in the collection's smallest unit.
  min_cut bigint not null check (min_cut > 0),
  max_pieces smallint not null check (max_pieces between 1 and 8),
  cap_per_kind bigint check (cap_per_kind >= 0),
  cap_total bigint check (cap_total >= 0),
  note text check (length(note) <= 2000),
  -- What the call offered per kind when the allocation was last checked: [{kind, releasable}] in smallest units.
  offer jsonb not null default '[]'::jsonb,
  created_by uuid references users (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  approved_by uuid references users (id),
  approved_at timestamptz,
  executed_by uuid references users (id),
  executed_at timestamptz,
  check ((state in ('approved', 'executed')) = (approved_at is not null) or state = 'superseded'),
  check ((state = 'executed') = (executed_at is not null))
);
create index allocations_call on allocations (call_id, created_at);

-- What each approved application asked for when the allocation was proposed,
-- with its rank and score: the problem the proposal answers.
create table allocation_items (
  allocation_id uuid not null references allocations (id),
  application_id uuid not null references applications (id),
  kind text not null check (length(kind) between 1 and 64),
  institution_id uuid not null references institutions (id),
  requested bigint not null check (requested > 0),
  minimum bigint not null check (minimum > 0 and minimum <= requested),
  score double precision not null,
  rank integer not null check (rank >= 1),
  -- The outcome as last proposed or edited, and why: a stable code with its
  -- parameters (for translation) and the English sentence.
  allocated bigint not null default 0 check (allocated >= 0 and allocated <= requested),
  outcome text not null default 'none' check (outcome in ('full', 'partial', 'none')),
  reason text not null default 'outweighed' check (length(reason) <= 64),
  params jsonb not null default '{}'::jsonb,
  explanation text not null default '' check (length(explanation) <= 2000),
  primary key (allocation_id, application_id, kind)
);

-- One piece: a quantity cut from a parent sample for an application's item.
-- After execution, the subsample it became and the reservation holding it.
create table allocation_lines (
  id uuid primary key,
  allocation_id uuid not null references allocations (id),
  application_id uuid not null references applications (id),
  kind text not null check (length(kind) between 1 and 64),
  sample_id uuid not null references samples (id),
  quantity bigint not null check (quantity > 0),
  child_sample_id uuid references samples (id),
  reservation_id uuid references reservations (id),
  unique (allocation_id, application_id, kind, sample_id),
  foreign key (allocation_id, application_id, kind) references allocation_items (allocation_id, application_id, kind),
  check ((child_sample_id is null) = (reservation_id is null))
);
create index allocation_lines_sample on allocation_lines (sample_id);
create index allocation_lines_application on allocation_lines (application_id);
