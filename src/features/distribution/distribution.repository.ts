/** SQL of shipments, their items, custody events and incidents. */
import { sql } from 'kysely';
import type { ItemCondition, ShipmentState } from '../../core/distribution.js';
import type { Executor, Tx } from '../../platform/db/tx.js';

export interface ShipmentRow {
  id: string;
  reference: string;
  application_id: string;
  state: ShipmentState;
  note: string | null;
  loan_due_at: Date | null;
  report_due_at: Date | null;
  courier: string | null;
  tracking_number: string | null;
  receipt_note: string | null;
  created_by: string | null;
  created_at: Date;
  packed_at: Date | null;
  dispatched_at: Date | null;
  received_at: Date | null;
  received_by: string | null;
  cancelled_at: Date | null;
}

export interface ShipmentItemRow {
  shipment_id: string;
  sample_id: string;
  reservation_id: string;
  quantity: bigint;
  position: number;
  received_quantity: bigint | null;
  condition: ItemCondition | null;
  receipt_note: string | null;
  identifier: string;
  kind: string;
  parent_identifier: string | null;
  sample_state: string;
}

export interface IncidentRow {
  id: string;
  shipment_id: string;
  application_id: string;
  sample_id: string;
  identifier: string;
  kind: 'quantity' | 'condition' | 'missing';
  expected: bigint;
  found: bigint;
  condition: ItemCondition;
  description: string;
  state: 'open' | 'resolved';
  action: 'accept' | 'adjust' | null;
  resolution: string | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  created_at: Date;
  reference: string;
}

/** Who is looking: privileged roles see every shipment; an applicant only those for their own applications. */
export interface ShipmentViewer {
  userId: string;
  privileged: boolean;
}

export interface ApplicationInfo {
  id: string;
  call_id: string;
  title: string;
  state: string;
  applicant_id: string;
  institution_id: string;
  applicant_name: string;
  applicant_email: string;
  institution_name: string;
  collection_id: string;
  unit: string;
  scale: number;
}

const shipmentColumns = [
  's.id',
  's.reference',
  's.application_id',
  's.state',
  's.note',
  's.loan_due_at',
  's.report_due_at',
  's.courier',
  's.tracking_number',
  's.receipt_note',
  's.created_by',
  's.created_at',
  's.packed_at',
  's.dispatched_at',
  's.received_at',
  's.received_by',
  's.cancelled_at',
] as const;

const toItem = (row: Record<string, unknown>): ShipmentItemRow => ({
  ...(row as unknown as ShipmentItemRow),
  quantity: BigInt(row.quantity as string),
  received_quantity: row.received_quantity === null ? null : BigInt(row.received_quantity as string),
});

const toIncident = (row: Record<string, unknown>): IncidentRow => ({
  ...(row as unknown as IncidentRow),
  expected: BigInt(row.expected as string),
  found: BigInt(row.found as string),
});

export const distributionRepository = {
  /** The application with its recipient and the unit of its call's collection. */
  async applicationInfo(db: Executor, id: string): Promise<ApplicationInfo | undefined> {
    return db
      .selectFrom('applications as a')
      .innerJoin('users as u', 'u.id', 'a.applicant_id')
      .innerJoin('institutions as i', 'i.id', 'a.institution_id')
      .innerJoin('calls as c', 'c.id', 'a.call_id')
      .innerJoin('collections as col', 'col.id', 'c.collection_id')
      .select(['a.id', 'a.call_id', 'a.title', 'a.state', 'a.applicant_id', 'a.institution_id', 'u.name as applicant_name', 'u.email as applicant_email', 'i.name as institution_name', 'c.collection_id', 'col.unit', 'col.scale'])
      .where('a.id', '=', id)
      .executeTakeFirst();
  },

  /** Active reservations for the application not already in a live shipment (all of them, or the ids given). */
  async shippableReservations(tx: Executor, applicationId: string, ids?: string[], allocationId?: string) {
    let query = tx
      .selectFrom('reservations as r')
      .innerJoin('samples as smp', 'smp.id', 'r.sample_id')
      .select(['r.id', 'r.sample_id', 'r.quantity', 'r.application_id', 'r.state', 'smp.quantity as sample_quantity', 'smp.collection_id', 'smp.identifier'])
      .where('r.application_id', '=', applicationId)
      .where('r.state', '=', 'active')
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('shipment_items as si').select('si.reservation_id').whereRef('si.reservation_id', '=', 'r.id').where('si.cancelled', '=', false))))
      .orderBy(sql`smp.identifier collate "C"`);
    if (ids) query = query.where('r.id', 'in', ids.length ? ids : ['00000000-0000-0000-0000-000000000000']);
    if (allocationId) {
      query = query.where('r.id', 'in', (eb) =>
        eb.selectFrom('allocation_lines as al').select('al.reservation_id').where('al.allocation_id', '=', allocationId).where('al.application_id', '=', applicationId).where('al.reservation_id', 'is not', null).$narrowType<{ reservation_id: string }>(),
      );
    }
    const rows = await query.execute();
    return rows.map((r) => ({ ...r, quantity: BigInt(r.quantity), sample_quantity: BigInt(r.sample_quantity) }));
  },

  /** An allocation's state and whether it has executed lines for the application. */
  async allocationFor(db: Executor, allocationId: string, applicationId: string): Promise<{ state: string; lines: number } | undefined> {
    const allocation = await db.selectFrom('allocations').select('state').where('id', '=', allocationId).executeTakeFirst();
    if (!allocation) return undefined;
    const row = await db.selectFrom('allocation_lines').select((eb) => eb.fn.countAll<string>().as('n')).where('allocation_id', '=', allocationId).where('application_id', '=', applicationId).executeTakeFirstOrThrow();
    return { state: allocation.state, lines: Number(row.n) };
  },

  /** Reservations by id, whatever their state and application, to explain a refusal. */
  reservationsById(db: Executor, ids: string[]) {
    if (!ids.length) return Promise.resolve([]);
    return db.selectFrom('reservations').select(['id', 'state', 'application_id']).where('id', 'in', ids).execute();
  },

  async insertShipment(tx: Tx, row: { id: string; reference: string; application_id: string; note: string | null; loan_due_at: Date | null; report_due_at: Date | null; created_by: string | null }): Promise<void> {
    await tx.insertInto('shipments').values(row).execute();
  },

  async insertItems(tx: Tx, rows: Array<{ shipment_id: string; sample_id: string; reservation_id: string; quantity: bigint; position: number }>): Promise<void> {
    if (rows.length) await tx.insertInto('shipment_items').values(rows.map((r) => ({ ...r, quantity: r.quantity.toString() }))).execute();
  },

  async insertEvent(tx: Tx, row: { id: string; shipment_id: string; kind: 'created' | 'packed' | 'dispatched' | 'received' | 'cancelled' | 'incident-opened' | 'incident-resolved'; actor_id: string | null; data: Record<string, unknown> }): Promise<void> {
    await tx.insertInto('shipment_events').values({ ...row, data: JSON.stringify(row.data) }).execute();
  },

  find(db: Executor, id: string): Promise<ShipmentRow | undefined> {
    return db.selectFrom('shipments as s').select(shipmentColumns).where('s.id', '=', id).executeTakeFirst() as Promise<ShipmentRow | undefined>;
  },

  forUpdate(tx: Tx, id: string): Promise<ShipmentRow | undefined> {
    return tx.selectFrom('shipments as s').select(shipmentColumns).where('s.id', '=', id).forUpdate().executeTakeFirst() as Promise<ShipmentRow | undefined>;
  },

  findVisible(db: Executor, viewer: ShipmentViewer, id: string): Promise<ShipmentRow | undefined> {
    let query = db.selectFrom('shipments as s').innerJoin('applications as a', 'a.id', 's.application_id').select(shipmentColumns).where('s.id', '=', id);
    if (!viewer.privileged) query = query.where('a.applicant_id', '=', viewer.userId);
    return query.executeTakeFirst() as Promise<ShipmentRow | undefined>;
  },

  list(db: Executor, viewer: ShipmentViewer, options: { limit: number; after?: { createdAt: Date; id: string } | undefined; applicationId?: string | undefined; state?: ShipmentState | undefined }): Promise<ShipmentRow[]> {
    let query = db
      .selectFrom('shipments as s')
      .innerJoin('applications as a', 'a.id', 's.application_id')
      .select(shipmentColumns)
      .orderBy('s.created_at', 'desc')
      .orderBy('s.id', 'desc')
      .limit(options.limit);
    if (!viewer.privileged) query = query.where('a.applicant_id', '=', viewer.userId);
    if (options.applicationId) query = query.where('s.application_id', '=', options.applicationId);
    if (options.state) query = query.where('s.state', '=', options.state);
    const after = options.after;
    if (after) query = query.where((eb) => eb.or([eb('s.created_at', '<', after.createdAt), eb.and([eb('s.created_at', '=', after.createdAt), eb('s.id', '<', after.id)])]));
    return query.execute() as Promise<ShipmentRow[]>;
  },

  async items(db: Executor, shipmentIds: string[]): Promise<ShipmentItemRow[]> {
    if (!shipmentIds.length) return [];
    const rows = await db
      .selectFrom('shipment_items as si')
      .innerJoin('samples as smp', 'smp.id', 'si.sample_id')
      .leftJoin('samples as p', 'p.id', 'smp.parent_id')
      .select(['si.shipment_id', 'si.sample_id', 'si.reservation_id', 'si.quantity', 'si.position', 'si.received_quantity', 'si.condition', 'si.receipt_note', 'smp.identifier', 'smp.kind', 'p.identifier as parent_identifier', 'smp.state as sample_state'])
      .where('si.shipment_id', 'in', shipmentIds)
      .orderBy('si.shipment_id')
      .orderBy('si.position')
      .execute();
    return rows.map((r) => toItem(r as unknown as Record<string, unknown>));
  },

  events(db: Executor, shipmentIds: string[]) {
    if (!shipmentIds.length) return Promise.resolve([]);
    return db
      .selectFrom('shipment_events')
      .select(['id', 'shipment_id', 'kind', 'actor_id', 'occurred_at', 'data'])
      .where('shipment_id', 'in', shipmentIds)
      .orderBy('seq')
      .execute();
  },

  /** Moves the shipment from one state to the next only if it is still in `from`. */
  async transition(tx: Tx, id: string, from: ShipmentState, changes: Record<string, unknown>): Promise<boolean> {
    const result = await tx
      .updateTable('shipments')
      .set({ ...changes, updated_at: new Date() })
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  },

  async cancelItems(tx: Tx, shipmentId: string): Promise<void> {
    await tx.updateTable('shipment_items').set({ cancelled: true }).where('shipment_id', '=', shipmentId).execute();
  },

  async recordReceipt(tx: Tx, shipmentId: string, sampleId: string, values: { received_quantity: bigint; condition: ItemCondition; receipt_note: string | null }): Promise<void> {
    await tx
      .updateTable('shipment_items')
      .set({ received_quantity: values.received_quantity.toString(), condition: values.condition, receipt_note: values.receipt_note })
      .where('shipment_id', '=', shipmentId)
      .where('sample_id', '=', sampleId)
      .execute();
  },

  async insertIncident(tx: Tx, row: { id: string; shipment_id: string; application_id: string; sample_id: string; kind: 'quantity' | 'condition' | 'missing'; expected: bigint; found: bigint; condition: ItemCondition; description: string }): Promise<void> {
    await tx
      .insertInto('shipment_incidents')
      .values({ ...row, expected: row.expected.toString(), found: row.found.toString() })
      .execute();
  },

  incidentQuery(db: Executor) {
    return db
      .selectFrom('shipment_incidents as x')
      .innerJoin('samples as smp', 'smp.id', 'x.sample_id')
      .innerJoin('shipments as s', 's.id', 'x.shipment_id')
      .innerJoin('applications as a', 'a.id', 'x.application_id')
      .select([
        'x.id',
        'x.shipment_id',
        'x.application_id',
        'x.sample_id',
        'smp.identifier',
        'x.kind',
        'x.expected',
        'x.found',
        'x.condition',
        'x.description',
        'x.state',
        'x.action',
        'x.resolution',
        'x.resolved_by',
        'x.resolved_at',
        'x.created_at',
        's.reference',
      ]);
  },

  async incidents(db: Executor, viewer: ShipmentViewer, options: { limit: number; after?: { createdAt: Date; id: string } | undefined; state?: 'open' | 'resolved' | undefined; shipmentIds?: string[] | undefined; applicationId?: string | undefined }): Promise<IncidentRow[]> {
    let query = distributionRepository.incidentQuery(db).orderBy('x.created_at', 'desc').orderBy('x.id', 'desc').limit(options.limit);
    if (!viewer.privileged) query = query.where('a.applicant_id', '=', viewer.userId);
    if (options.state) query = query.where('x.state', '=', options.state);
    if (options.shipmentIds) query = query.where('x.shipment_id', 'in', options.shipmentIds.length ? options.shipmentIds : ['00000000-0000-0000-0000-000000000000']);
    if (options.applicationId) query = query.where('x.application_id', '=', options.applicationId);
    const after = options.after;
    if (after) query = query.where((eb) => eb.or([eb('x.created_at', '<', after.createdAt), eb.and([eb('x.created_at', '=', after.createdAt), eb('x.id', '<', after.id)])]));
    const rows = await query.execute();
    return rows.map((r) => toIncident(r as unknown as Record<string, unknown>));
  },

  async incident(db: Executor, id: string): Promise<IncidentRow | undefined> {
    const row = await distributionRepository.incidentQuery(db).where('x.id', '=', id).executeTakeFirst();
    return row && toIncident(row as unknown as Record<string, unknown>);
  },

  async resolveIncident(tx: Tx, id: string, values: { action: 'accept' | 'adjust'; resolution: string; resolved_by: string | null }): Promise<boolean> {
    const result = await tx
      .updateTable('shipment_incidents')
      .set({ ...values, state: 'resolved', resolved_at: new Date() })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  },

  async openIncidentCount(db: Executor, applicationId: string): Promise<number> {
    const row = await db.selectFrom('shipment_incidents').select((eb) => eb.fn.countAll<string>().as('n')).where('application_id', '=', applicationId).where('state', '=', 'open').executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Shipments created for the application and not yet received or cancelled. */
  async pendingShipmentCount(db: Executor, applicationId: string): Promise<number> {
    const row = await db.selectFrom('shipments').select((eb) => eb.fn.countAll<string>().as('n')).where('application_id', '=', applicationId).where('state', 'in', ['prepared', 'packed', 'dispatched']).executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async curators(db: Executor): Promise<string[]> {
    const rows = await db.selectFrom('users').select('id').where(sql<boolean>`'curator' = any(roles)`).where('disabled_at', 'is', null).execute();
    return rows.map((r) => r.id);
  },

  userNames(db: Executor, ids: string[]) {
    if (!ids.length) return Promise.resolve([]);
    return db.selectFrom('users').select(['id', 'name']).where('id', 'in', ids).execute();
  },
};
