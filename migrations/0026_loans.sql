-- Loans: what a recipient holds after receipt, and what they owe — a result
-- report by a date, publications with the acknowledgement, and the return or
-- consumption of every unit.
create table loans (
  id uuid primary key,
  application_id uuid not null unique references applications (id),
  applicant_id uuid not null references users (id),
  institution_id uuid not null references institutions (id),
  state text not null default 'open' check (state in ('open', 'closed')),
  due_at timestamptz not null,
  report_due_at timestamptz not null,
  due_reminded_at timestamptz,
  report_reminded_at timestamptz,
  overdue_notified_at timestamptz,
  opened_at timestamptz not null default now(),
  closed_at timestamptz,
  closed_by uuid references users (id),
  close_note text check (length(close_note) <= 2000),
  updated_at timestamptz not null default now(),
  check ((state = 'closed') = (closed_at is not null))
);
create index loans_applicant on loans (applicant_id, state);
create index loans_state_due on loans (state, due_at, id);

-- The samples on loan, each with the quantity shipped in it.
create table loan_samples (
  loan_id uuid not null references loans (id),
  sample_id uuid not null unique references samples (id),
  shipment_id uuid not null references shipments (id),
  quantity bigint not null check (quantity > 0),
  primary key (loan_id, sample_id)
);

-- Returns (a new sample split from the loaned one) and reported consumption.
create table loan_entries (
  id uuid primary key,
  loan_id uuid not null references loans (id),
  sample_id uuid not null references samples (id),
  kind text not null check (kind in ('return', 'consume')),
  quantity bigint not null check (quantity > 0),
  returned_sample_id uuid references samples (id),
  condition text check (condition in ('intact', 'damaged')),
  note text check (length(note) <= 2000),
  created_by uuid references users (id),
  created_at timestamptz not null default now(),
  check ((kind = 'return') = (returned_sample_id is not null))
);
create index loan_entries_loan on loan_entries (loan_id, created_at);

create table loan_reports (
  id uuid primary key,
  loan_id uuid not null references loans (id),
  summary text not null check (length(summary) between 1 and 20000),
  filed_by uuid references users (id),
  filed_at timestamptz not null default now()
);
create index loan_reports_loan on loan_reports (loan_id, filed_at);

create table loan_publications (
  id uuid primary key,
  loan_id uuid not null references loans (id),
  doi text not null check (doi ~ '^10\.[0-9]{4,9}/\S{1,200}$'),
  title text not null check (length(title) between 1 and 500),
  acknowledgement text not null check (length(acknowledgement) between 1 and 2000),
  registered_by uuid references users (id),
  registered_at timestamptz not null default now()
);
create unique index loan_publications_doi on loan_publications (loan_id, lower(doi));
