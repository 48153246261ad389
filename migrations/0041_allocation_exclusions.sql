-- Consent before allocation: the samples of each item's kind that the
-- application's intended uses may not draw on, as the proposal (or the
-- chair's last edit) was explained: [{code, sampleId, identifier, reason,
-- uses, message}]. Kept with the outcome so an explanation stays what it was
-- when consent later changes.
alter table allocation_items add column exclusions jsonb not null default '[]'::jsonb;
