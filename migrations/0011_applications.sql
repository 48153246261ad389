-- Applications for material, their requested items and attachments.
create table applications (
  id uuid primary key,
  call_id uuid not null references calls (id),
  applicant_id uuid not null references users (id),
  institution_id uuid not null references institutions (id),
  state text not null default 'draft' check (state in (
    'draft', 'submitted', 'in_review', 'approved', 'partially_approved', 'rejected',
    'allocated', 'shipped', 'received', 'reporting', 'closed', 'withdrawn')),
  title text not null check (length(title) between 1 and 300),
  research_direction text check (length(research_direction) <= 200),
  research_direction_other text check (length(research_direction_other) <= 500),
  methods text check (length(methods) <= 10000),
  destructive boolean not null default false,
  justification text check (length(justification) <= 20000),
  team jsonb not null default '[]'::jsonb check (jsonb_typeof(team) = 'array'),
  publications jsonb not null default '[]'::jsonb check (jsonb_typeof(publications) = 'array'),
  ethics_reference text check (length(ethics_reference) <= 200),
  submitted_at timestamptz,
  withdrawn_at timestamptz,
  decision text check (decision in ('approved', 'partially_approved', 'rejected')),
  decided_at timestamptz,
  decided_by uuid references users (id),
  decision_rationale text check (length(decision_rationale) <= 10000),
  decision_letter text check (length(decision_letter) <= 20000),
  version integer not null default 1 check (version >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, institution_id),
  unique (id, call_id),
  check (state in ('draft', 'withdrawn') or submitted_at is not null),
  check ((state = 'withdrawn') = (withdrawn_at is not null)),
  check (state not in ('approved', 'partially_approved', 'rejected') or (decision = state and decided_at is not null and decision_rationale is not null)),
  check (state not in ('allocated', 'shipped', 'received', 'reporting', 'closed') or decision in ('approved', 'partially_approved'))
);
create index applications_call on applications (call_id, state);
create index applications_applicant on applications (applicant_id);

create table application_items (
  application_id uuid not null references applications (id),
  kind text not null check (length(kind) between 1 and 64),
  quantity bigint not null check (quantity > 0),
  minimum bigint not null check (minimum > 0),
  approved bigint check (approved >= 0),
  position smallint not null check (position >= 0),
  primary key (application_id, kind),
  check (minimum <= quantity),
  check (approved is null or approved <= quantity)
);

create table application_attachments (
  id uuid primary key,
  application_id uuid not null references applications (id),
  -- The name the user gave, shown only; files are addressed by id.
  display_name text not null check (length(display_name) between 1 and 200),
  media_type text not null check (media_type = 'application/pdf'),
  size_bytes integer not null check (size_bytes between 5 and 10485760),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  content bytea not null,
  uploaded_by uuid references users (id),
  created_at timestamptz not null default now(),
  check (octet_length(content) = size_bytes)
);
create index application_attachments_application on application_attachments (application_id);
