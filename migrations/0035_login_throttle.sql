-- Per-account back-off for sign-in: failed attempts per e-mail address (known
-- or not, so the answer never tells whether an account exists). After 5
-- failures within 15 minutes the address is refused for 30 s, doubling with
-- every further failure up to 15 minutes; a successful sign-in clears the row.
create table login_throttle (
  email text primary key check (length(email) between 1 and 254),
  failures integer not null default 1 check (failures >= 1),
  first_failed_at timestamptz not null default now(),
  last_failed_at timestamptz not null default now(),
  locked_until timestamptz
);
