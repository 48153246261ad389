-- The pathology bank: pseudonymised donors, their consent, specimens' pre-analytical
-- data, networks of institutions, and the uses an application declares.
-- A donor is a code only: no name, national id, birth date or contact is ever stored.
create table donors (
  id uuid primary key,
  -- The bank's pseudonym: letters needed, and no run of 9+ digits (an id card or phone number is not a code).
  code text not null unique check (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$' and code ~ '[A-Za-z]' and code !~ '[0-9]{9}'),
  collection_id uuid not null references collections (id),
  collected_on date,
  -- Where the material was collected (hospital, department), not where the donor lives.
  collection_site text check (length(collection_site) between 1 and 200),
  -- ICD-10 codes such as U07.1 or J18.9.
  diagnoses text[] not null default '{}'
    check (array_to_string(diagnoses, ',') ~ '^([A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?(,[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?)*)?$'),
  consent_withdrawn_at timestamptz,
  created_by uuid references users (id),
  created_at timestamptz not null default now()
);
create index donors_collection on donors (collection_id, (code collate "C"));

-- One row per consent form signed; withdrawal closes them all.
create table consents (
  id uuid primary key,
  donor_id uuid not null references donors (id),
  scope text[] not null default '{}'
    check (scope <@ array['genetic-analysis', 'commercial-use', 'external-sharing', 'data-linkage', 'cell-line-derivation', 'animal-research']::text[]),
  given_on date not null,
  form_version text not null check (length(form_version) between 1 and 64),
  withdrawn_at timestamptz,
  withdrawal_reason text check (length(withdrawal_reason) <= 2000),
  recorded_by uuid references users (id),
  created_at timestamptz not null default now()
);
create index consents_donor on consents (donor_id, given_on);

-- Pre-analytical data of a registered specimen; its subsamples (same root) share donor and history.
create table specimens (
  sample_id uuid primary key references samples (id),
  donor_id uuid not null references donors (id),
  collection_method text check (collection_method in ('autopsy', 'biopsy', 'resection', 'aspiration', 'swab', 'venipuncture', 'lavage', 'other')),
  body_site text check (length(body_site) between 1 and 200),
  collected_at timestamptz,
  fixation text check (fixation in ('none', 'formalin', 'alcohol', 'frozen', 'oct', 'rnalater', 'other')),
  cold_ischaemia_minutes integer check (cold_ischaemia_minutes between 0 and 100000),
  storage_temperature_c smallint check (storage_temperature_c between -273 and 60),
  -- ISBER SPREC v3: seven elements, e.g. TIS-SRG-A-B-FOR-S-A.
  sprec text check (sprec ~ '^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]-[A-Z0-9]-([A-Z0-9]|[A-Z0-9]{3})-[A-Z0-9]-[A-Z0-9]$'),
  biosafety_level smallint check (biosafety_level between 1 and 4),
  created_at timestamptz not null default now()
);
create index specimens_donor on specimens (donor_id);

-- Consent withdrawn: the database itself refuses to reserve such material or
-- put it back on the shelf, and every subsample carries its parent's flag
-- (a split cannot create unflagged material; flagging a root cascades down).
alter table samples add column consent_withdrawn boolean not null default false;
alter table samples add constraint samples_id_consent_key unique (id, consent_withdrawn);
alter table samples add constraint samples_consent_lineage_fkey
  foreign key (parent_id, consent_withdrawn) references samples (id, consent_withdrawn) on update cascade;
alter table samples add constraint samples_consent_withdrawn_check
  check (not consent_withdrawn or (reserved = 0 and state not in ('available', 'reserved')));

-- Networks of institutions that see one another's collection-level catalog.
create table networks (
  id uuid primary key,
  code text not null unique check (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now()
);

create table network_members (
  network_id uuid not null references networks (id),
  institution_id uuid not null references institutions (id),
  joined_at timestamptz not null default now(),
  primary key (network_id, institution_id)
);
create index network_members_institution on network_members (institution_id);

-- What an application will do with human material, checked against each donor's consent.
create table application_uses (
  application_id uuid not null references applications (id),
  use text not null check (use in ('genetic-analysis', 'commercial-use', 'external-sharing', 'data-linkage', 'cell-line-derivation', 'animal-research')),
  primary key (application_id, use)
);
