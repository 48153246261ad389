-- Institutions, users and their credentials.
create table institutions (
  id uuid primary key,
  code text not null unique check (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
  name text not null check (length(name) between 1 and 200),
  parent_body text check (length(parent_body) <= 200),
  created_at timestamptz not null default now()
);

create table users (
  id uuid primary key,
  email text not null check (length(email) between 3 and 254 and position('@' in email) > 1),
  name text not null check (length(name) between 1 and 200),
  password_hash text,
  institution_id uuid references institutions (id),
  roles text[] not null default '{}'
    check (roles <@ array['admin', 'curator', 'reviewer', 'chair', 'applicant', 'auditor']::text[]),
  disabled_at timestamptz,
  created_at timestamptz not null default now()
);
create unique index users_email_key on users (lower(email));

-- Session cookies, API tokens and one-time setup links: only a hash of the secret is stored.
create table auth_tokens (
  id uuid primary key,
  user_id uuid references users (id),
  kind text not null check (kind in ('session', 'api', 'setup')),
  name text check (length(name) <= 100),
  token_hash text not null unique,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index auth_tokens_user on auth_tokens (user_id);
