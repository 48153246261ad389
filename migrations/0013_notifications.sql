-- In-app notifications, and the e-mail outbox that keeps mail until SMTP accepts it.
create table notifications (
  id uuid primary key,
  user_id uuid not null references users (id),
  kind text not null check (length(kind) between 1 and 64),
  title text not null check (length(title) between 1 and 300),
  body text not null check (length(body) <= 5000),
  entity_type text,
  entity_id uuid,
  created_at timestamptz not null default now(),
  read_at timestamptz
);
create index notifications_user on notifications (user_id, created_at desc, id);

create table mail_outbox (
  id uuid primary key,
  notification_id uuid references notifications (id),
  to_address text not null check (length(to_address) between 3 and 254),
  subject text not null check (length(subject) between 1 and 300),
  body text not null,
  state text not null default 'pending' check (state in ('pending', 'sent', 'failed')),
  attempts integer not null default 0 check (attempts >= 0),
  last_error text,
  next_attempt_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  check ((state = 'sent') = (sent_at is not null))
);
create index mail_outbox_pending on mail_outbox (next_attempt_at) where state = 'pending';
