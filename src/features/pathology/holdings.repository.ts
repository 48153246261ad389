/**
 * Where a donor's material is outside the bank's shelf: open loans, shipments
 * not yet received, active reservations, and samples in transit or on loan.
 * Reads the distribution and loans tables; identifiers only, never donor data.
 */
import { sql } from 'kysely';
import { formatQuantity } from '../../core/quantity.js';
import type { Executor } from '../../platform/db/tx.js';

const lineage = (donorId: string) => sql`(select sample_id from specimens where donor_id = ${donorId})`;

export const holdingsRepository = {
  async of(db: Executor, donorId: string) {
    const loans = await sql<{ sampleId: string; identifier: string; state: string; loanId: string; applicationId: string; dueAt: Date | string }>`
      select s.id as "sampleId", s.identifier, s.state, l.id as "loanId", l.application_id as "applicationId", l.due_at as "dueAt"
      from loan_samples ls join loans l on l.id = ls.loan_id join samples s on s.id = ls.sample_id
      where l.state = 'open' and s.root_id in ${lineage(donorId)}
      order by s.identifier collate "C"`.execute(db);
    const shipments = await sql<{ sampleId: string; identifier: string; state: string; shipmentId: string; reference: string; shipmentState: string; applicationId: string }>`
      select s.id as "sampleId", s.identifier, s.state, sh.id as "shipmentId", sh.reference, sh.state as "shipmentState", sh.application_id as "applicationId"
      from shipment_items si join shipments sh on sh.id = si.shipment_id join samples s on s.id = si.sample_id
      where sh.state in ('prepared', 'packed', 'dispatched') and not si.cancelled and s.root_id in ${lineage(donorId)}
      order by s.identifier collate "C"`.execute(db);
    const reservations = await sql<{ sampleId: string; identifier: string; state: string; reservationId: string; applicationId: string | null; quantity: string; scale: number }>`
      select s.id as "sampleId", s.identifier, s.state, r.id as "reservationId", r.application_id as "applicationId", r.quantity::text as quantity, c.scale
      from reservations r join samples s on s.id = r.sample_id join collections c on c.id = s.collection_id
      where r.state = 'active' and s.root_id in ${lineage(donorId)}
      order by s.identifier collate "C"`.execute(db);
    const listed = new Set([...loans.rows, ...shipments.rows].map((r) => r.sampleId));
    const away = await sql<{ sampleId: string; identifier: string; state: string }>`
      select s.id as "sampleId", s.identifier, s.state from samples s
      where s.state in ('on_loan', 'in_transit') and s.root_id in ${lineage(donorId)}
      order by s.identifier collate "C"`.execute(db);
    return {
      loans: loans.rows.map((r) => ({ ...r, dueAt: new Date(r.dueAt).toISOString() })),
      shipments: shipments.rows,
      reservations: reservations.rows.map(({ scale, quantity, ...r }) => ({ ...r, quantity: formatQuantity(BigInt(quantity), scale) })),
      elsewhere: away.rows.filter((r) => !listed.has(r.sampleId)),
    };
  },
};

