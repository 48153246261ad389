-- The ledger's counters and the indexes its lists need.
-- Generated root identifiers: <collection code><4-digit number>, numbered per collection.
alter table collections add column next_number integer not null default 1 check (next_number >= 1);

-- Sample lists page by (identifier, id) in byte order ("C"), the same on every
-- engine and locale; a prefix search (identifier like 'CE5C%') uses the same index.
create index samples_identifier_c on samples ((identifier collate "C"), id);
create index samples_collection_c on samples (collection_id, (identifier collate "C"), id);
create index samples_collection_kind_c on samples (collection_id, kind, (identifier collate "C"), id);
create index samples_location_c on samples (location_id, (identifier collate "C"), id) where location_id is not null;
create index samples_state_c on samples (state, (identifier collate "C"), id);
drop index samples_collection;
drop index samples_kind;
drop index samples_state;
drop index samples_location;
drop index samples_identifier_prefix;

-- Reservations per sample, all states, for the reservation list.
create index reservations_sample_all on reservations (sample_id, created_at);
-- Locations listed under a parent, by code.
create index locations_parent on locations (parent_id, code);
