-- The curator's receipt of returned material: when it arrived back, who
-- received it, what was found, and a note. Until then a return is in transit.
alter table loan_entries add column received_at timestamptz;
alter table loan_entries add column received_by uuid references users (id);
alter table loan_entries add column received_quantity bigint check (received_quantity >= 0);
alter table loan_entries add column received_condition text check (received_condition in ('intact', 'damaged'));
alter table loan_entries add column receipt_note text check (length(receipt_note) <= 2000);
alter table loan_entries add constraint loan_entries_receipt_of_return check (received_at is null or kind = 'return');
create index loan_entries_returns_in_transit on loan_entries (created_at) where kind = 'return' and received_at is null;
