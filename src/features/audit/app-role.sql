-- Optional, not a migration: run the app under a role that can append to the
-- audit trail and read it, but never change or remove it, even with the
-- triggers switched off. Run this as the role that owns the schema and runs
-- the migrations (never as the app), after the first start has migrated.
-- Rename samplebank_app and set a real password.
create role samplebank_app login password 'change-me' nosuperuser nocreaterole nocreatedb;
-- CREATE only lets the start-up migration check ("create table if not exists
-- schema_migrations") pass; the app owns no table, so it can alter none.
grant usage, create on schema public to samplebank_app;
grant select, insert, update, delete on all tables in schema public to samplebank_app;
grant usage, select on all sequences in schema public to samplebank_app;
alter default privileges in schema public grant select, insert, update, delete on tables to samplebank_app;
alter default privileges in schema public grant usage, select on sequences to samplebank_app;
-- The audit trail itself: append and read only.
revoke update, delete, truncate on audit_events, audit_seals from samplebank_app;
