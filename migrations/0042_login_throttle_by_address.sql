-- Sign-in throttling by client address, replacing 0035's per-e-mail lock-out: five wrong
-- passwords from anywhere locked an account for everyone, so anyone could keep the owner out.
-- Now failures are counted per (account, address), per address across accounts, and per account
-- across addresses; the rules and their numbers are in src/features/identity/login-throttle.ts.
-- Its rows were locks under the old rule; nothing in them carries over.
drop table login_throttle;

-- One counter per key: account '' is "any account" (an address's failures), address '' is "any
-- address" (an account's failures). The count fades with time, hence hundredths.
-- account is the lower-cased e-mail as typed, known or not, so a counter never tells whether an
-- account exists; address is the client address (an IPv6 address by its /64 prefix).
create table login_failures (
  account text not null check (length(account) <= 254),
  address text not null check (length(address) <= 100),
  failures numeric(12, 2) not null check (failures >= 0),
  last_failed_at timestamptz not null default now(),
  wait_until timestamptz,
  primary key (account, address),
  check (account <> '' or address <> '')
);
create index login_failures_last_failed on login_failures (last_failed_at);

-- Addresses an account signed in from successfully (kept 90 days): there, only that address's
-- own failures on that account ever make its owner wait.
create table login_known_addresses (
  account text not null check (length(account) between 1 and 254),
  address text not null check (length(address) between 1 and 100),
  last_signed_in_at timestamptz not null default now(),
  primary key (account, address)
);
create index login_known_addresses_last on login_known_addresses (last_signed_in_at);
