-- Calls (release batches): what a collection offers, when, under which rubric and panel.
create table calls (
  id uuid primary key,
  collection_id uuid not null references collections (id),
  title text not null check (length(title) between 1 and 200),
  description text check (length(description) <= 10000),
  state text not null default 'draft'
    check (state in ('draft', 'open', 'closed', 'in_review', 'decided', 'distributed', 'archived')),
  opens_at timestamptz not null,
  closes_at timestamptz not null,
  review_deadline timestamptz,
  -- Permanent reserve in basis points of the pool (7500 = 75%, the curation guideline for returned samples).
  reserve_bp integer not null default 7500 check (reserve_bp between 0 and 10000),
  blind boolean not null default true,
  reviewers_per_application smallint not null default 3 check (reviewers_per_application between 1 and 20),
  research_directions text[] not null default '{}',
  score_min smallint not null default 1,
  score_max smallint not null default 5,
  chair_id uuid references users (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (closes_at > opens_at),
  check (review_deadline is null or review_deadline > closes_at),
  check (score_max > score_min and score_min >= 0 and score_max <= 100)
);
create index calls_collection on calls (collection_id);
create index calls_state on calls (state);

create table call_criteria (
  call_id uuid not null references calls (id),
  key text not null check (key ~ '^[a-z][a-z0-9_]{0,39}$'),
  name text not null check (length(name) between 1 and 200),
  description text check (length(description) <= 2000),
  weight integer not null check (weight between 1 and 1000),
  position smallint not null check (position >= 0),
  primary key (call_id, key)
);

-- Which institutions may apply; none listed means every institution.
create table call_institutions (
  call_id uuid not null references calls (id),
  institution_id uuid not null references institutions (id),
  primary key (call_id, institution_id)
);

create table call_panel (
  call_id uuid not null references calls (id),
  reviewer_id uuid not null references users (id),
  added_at timestamptz not null default now(),
  primary key (call_id, reviewer_id)
);

-- The pool: samples offered, grouped by kind. total is the pool's quantity when
-- it was set; releasable what may leave (the rest stays in permanent reserve).
create table call_pool_samples (
  call_id uuid not null references calls (id),
  sample_id uuid not null references samples (id),
  kind text not null check (length(kind) between 1 and 64),
  quantity bigint not null check (quantity >= 0),
  primary key (call_id, sample_id)
);
create index call_pool_samples_sample on call_pool_samples (sample_id);

create table call_pool_kinds (
  call_id uuid not null references calls (id),
  kind text not null check (length(kind) between 1 and 64),
  total bigint not null check (total >= 0),
  releasable bigint not null check (releasable >= 0),
  primary key (call_id, kind),
  check (releasable <= total)
);
