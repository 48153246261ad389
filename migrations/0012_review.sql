-- Reviews: one reviewer's assignment, scores and comments on one application.
create table reviews (
  id uuid primary key,
  call_id uuid not null references calls (id),
  application_id uuid not null,
  application_institution_id uuid not null,
  reviewer_id uuid not null references users (id),
  reviewer_institution_id uuid references institutions (id),
  state text not null default 'assigned' check (state in ('assigned', 'submitted', 'recused')),
  comments_for_applicant text check (length(comments_for_applicant) <= 20000),
  confidential_notes text check (length(confidential_notes) <= 20000),
  assigned_by uuid references users (id),
  assigned_how text not null check (assigned_how in ('manual', 'auto')),
  assigned_at timestamptz not null default now(),
  submitted_at timestamptz,
  reminded_at timestamptz,
  updated_at timestamptz not null default now(),
  unique (application_id, reviewer_id),
  foreign key (application_id, application_institution_id) references applications (id, institution_id),
  foreign key (application_id, call_id) references applications (id, call_id),
  -- A reviewer from the applicant's institution is conflicted, whatever the code does.
  check (reviewer_institution_id is null or reviewer_institution_id <> application_institution_id),
  check ((state = 'submitted') = (submitted_at is not null))
);
create index reviews_reviewer on reviews (reviewer_id, call_id);
create index reviews_call on reviews (call_id, state);

create table review_scores (
  review_id uuid not null references reviews (id),
  criterion_key text not null,
  score smallint not null check (score between 0 and 100),
  comment text check (length(comment) <= 5000),
  primary key (review_id, criterion_key)
);

-- Declared conflicts of interest: with one application, or with a whole institution in a call.
create table review_conflicts (
  id uuid primary key,
  call_id uuid not null references calls (id),
  reviewer_id uuid not null references users (id),
  application_id uuid references applications (id),
  institution_id uuid references institutions (id),
  reason text not null check (length(reason) between 1 and 2000),
  declared_by uuid references users (id),
  created_at timestamptz not null default now(),
  check ((application_id is null) <> (institution_id is null))
);
create unique index review_conflicts_application on review_conflicts (reviewer_id, application_id) where application_id is not null;
create unique index review_conflicts_institution on review_conflicts (call_id, reviewer_id, institution_id) where institution_id is not null;
