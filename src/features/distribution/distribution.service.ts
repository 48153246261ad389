/**
 * Shipments: a curator packs an application's reserved samples, dispatches
 * them (the reservations are fulfilled and the samples go in transit), and the
 * recipient confirms what arrived (the samples are then on loan). A difference
 * between what was shipped and what was found opens an incident that a curator
 * resolves. Every step is a custody event and an audit event in the same
 * transaction as the ledger's movements.
 */
import crypto from 'node:crypto';
import { hasRole, type Actor } from '../../core/actor.js';
import { discrepancy, shipmentTransitions, type ItemCondition, type ShipmentState } from '../../core/distribution.js';
import { DomainError, forbidden, invalid, notFound } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import { formatQuantity, parseQuantity } from '../../core/quantity.js';
import { assertTransition, type ApplicationState } from '../../core/workflow.js';
import type { DB } from '../../platform/db/database.js';
import { idempotent, inTransaction, type Executor, type Tx } from '../../platform/db/tx.js';
import type { ApplicationsService } from '../applications/applications.service.js';
import { recordAudit } from '../audit/audit.service.js';
import { ledger, type LedgerActor } from '../inventory/ledger.js';
import type { NotificationsService } from '../notifications/notifications.service.js';
import { distributionRepository as repo, type ApplicationInfo, type IncidentRow, type ShipmentItemRow, type ShipmentRow, type ShipmentViewer } from './distribution.repository.js';
import { labelsPdf, packingListPdf, type PrintableShipment } from './distribution.pdf.js';
import { shipmentDeclaration } from '../pathology/biohazard.js';

const NOBODY = '00000000-0000-0000-0000-000000000000';
/** Application states in which material may (still) be shipped. */
const shippableApplicationStates: readonly ApplicationState[] = ['allocated', 'shipped', 'received', 'reporting'];

export interface ShipmentInput {
  applicationId: string;
  /** Ship what this executed allocation reserved to the application (its lines' subsamples). */
  allocationId?: string | undefined;
  reservationIds?: string[] | undefined;
  note?: string | undefined;
  loanDueAt?: string | undefined;
  reportDueAt?: string | undefined;
}

export interface DispatchInput {
  courier: string;
  trackingNumber: string;
}

export interface ReceiptInput {
  items: Array<{ sampleId: string; quantity: string; condition: ItemCondition; note?: string | undefined }>;
  note?: string | undefined;
}

export interface ResolveInput {
  action: 'accept' | 'adjust';
  resolution: string;
}

export interface ReceivedItem {
  sampleId: string;
  shipped: bigint;
  received: bigint;
}

/** What the loans feature is told when a shipment arrives, inside the receipt's transaction. */
export type ReceiptHook = (tx: Tx, actor: Actor, event: { shipment: ShipmentRow; application: ApplicationInfo; items: ReceivedItem[]; receivedAt: Date }) => Promise<void>;

export interface ShipmentView {
  id: string;
  reference: string;
  applicationId: string;
  applicationTitle: string;
  state: ShipmentState;
  recipient: { id: string; name: string; institutionId: string; institution: string };
  unit: string;
  total: string;
  note: string | null;
  courier: string | null;
  trackingNumber: string | null;
  loanDueAt: string | null;
  reportDueAt: string | null;
  receiptNote: string | null;
  createdAt: string;
  packedAt: string | null;
  dispatchedAt: string | null;
  receivedAt: string | null;
  cancelledAt: string | null;
  items: Array<{
    sampleId: string;
    identifier: string;
    kind: string;
    parentIdentifier: string | null;
    reservationId: string;
    quantity: string;
    sampleState: string;
    receivedQuantity: string | null;
    condition: ItemCondition | null;
    note: string | null;
  }>;
  events: Array<{ kind: string; at: string; actorId: string | null; data: Record<string, unknown> }>;
  incidents: IncidentView[];
}

export interface IncidentView {
  id: string;
  shipmentId: string;
  shipmentReference: string;
  applicationId: string;
  sampleId: string;
  identifier: string;
  kind: 'quantity' | 'condition' | 'missing';
  expected: string;
  found: string;
  condition: ItemCondition;
  description: string;
  state: 'open' | 'resolved';
  action: 'accept' | 'adjust' | null;
  resolution: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  createdAt: string;
}

export function shipmentViewer(actor: Actor): ShipmentViewer {
  return { userId: actor.userId ?? NOBODY, privileged: actor.userId === null || hasRole(actor, 'curator', 'admin', 'auditor', 'chair') };
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

function toIncident(row: IncidentRow, scale: number): IncidentView {
  return {
    id: row.id,
    shipmentId: row.shipment_id,
    shipmentReference: row.reference,
    applicationId: row.application_id,
    sampleId: row.sample_id,
    identifier: row.identifier,
    kind: row.kind,
    expected: formatQuantity(row.expected, scale),
    found: formatQuantity(row.found, scale),
    condition: row.condition,
    description: row.description,
    state: row.state,
    action: row.action,
    resolution: row.resolution,
    resolvedBy: row.resolved_by,
    resolvedAt: iso(row.resolved_at),
    createdAt: row.created_at.toISOString(),
  };
}

function encodeCursor(row: { created_at: Date; id: string }): string {
  return Buffer.from(`${row.created_at.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) throw invalid('cursor', 'is not a cursor this list gave');
  return { createdAt, id };
}

function futureDate(text: string | undefined, field: string, now: Date): Date | null {
  if (text === undefined) return null;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw invalid(field, 'is not a date-time');
  if (date.getTime() <= now.getTime()) throw invalid(field, 'must be in the future');
  return date;
}

export type DistributionService = ReturnType<typeof createDistributionService>;

export function createDistributionService(db: DB, deps: { applications: ApplicationsService; notifications: NotificationsService }) {
  const { applications, notifications } = deps;
  const receiptHooks: ReceiptHook[] = [];

  async function audit(tx: Tx, actor: Actor, shipment: { id: string; application_id: string }, action: string, data: Record<string, unknown>): Promise<void> {
    await recordAudit(tx, actor, { stream: `shipment:${shipment.id}`, action, entityType: 'shipment', entityId: shipment.id, data: { applicationId: shipment.application_id, ...data } });
  }

  async function info(executor: Executor, applicationId: string, field = 'applicationId'): Promise<ApplicationInfo> {
    const found = await repo.applicationInfo(executor, applicationId);
    if (!found) throw notFound('The application', field);
    return found;
  }

  async function render(executor: Executor, rows: ShipmentRow[]): Promise<ShipmentView[]> {
    const ids = rows.map((r) => r.id);
    const [items, events, incidents] = await Promise.all([repo.items(executor, ids), repo.events(executor, ids), repo.incidents(executor, { userId: NOBODY, privileged: true }, { limit: 10_000, shipmentIds: ids })]);
    const infos = new Map<string, ApplicationInfo>();
    for (const applicationId of new Set(rows.map((r) => r.application_id))) infos.set(applicationId, await info(executor, applicationId));
    return rows.map((row) => {
      const app = infos.get(row.application_id)!;
      const mine = items.filter((i) => i.shipment_id === row.id);
      const fmt = (units: bigint) => formatQuantity(units, app.scale);
      return {
        id: row.id,
        reference: row.reference,
        applicationId: row.application_id,
        applicationTitle: app.title,
        state: row.state,
        recipient: { id: app.applicant_id, name: app.applicant_name, institutionId: app.institution_id, institution: app.institution_name },
        unit: app.unit,
        total: fmt(mine.reduce((sum, i) => sum + i.quantity, 0n)),
        note: row.note,
        courier: row.courier,
        trackingNumber: row.tracking_number,
        loanDueAt: iso(row.loan_due_at),
        reportDueAt: iso(row.report_due_at),
        receiptNote: row.receipt_note,
        createdAt: row.created_at.toISOString(),
        packedAt: iso(row.packed_at),
        dispatchedAt: iso(row.dispatched_at),
        receivedAt: iso(row.received_at),
        cancelledAt: iso(row.cancelled_at),
        items: mine.map((i) => ({
          sampleId: i.sample_id,
          identifier: i.identifier,
          kind: i.kind,
          parentIdentifier: i.parent_identifier,
          reservationId: i.reservation_id,
          quantity: fmt(i.quantity),
          sampleState: i.sample_state,
          receivedQuantity: i.received_quantity === null ? null : fmt(i.received_quantity),
          condition: i.condition,
          note: i.receipt_note,
        })),
        events: events.filter((e) => e.shipment_id === row.id).map((e) => ({ kind: e.kind, at: e.occurred_at.toISOString(), actorId: e.actor_id, data: e.data })),
        incidents: incidents.filter((x) => x.shipment_id === row.id).map((x) => toIncident(x, app.scale)),
      };
    });
  }

  async function view(executor: Executor, id: string): Promise<ShipmentView> {
    const row = await repo.find(executor, id);
    if (!row) throw notFound('The shipment');
    return (await render(executor, [row]))[0]!;
  }

  /** The shipment as the actor may see it, or 404: a shipment of someone else's application does not exist for them. */
  async function visible(actor: Actor, id: string, executor: Executor = db): Promise<ShipmentRow> {
    const row = await repo.findVisible(executor, shipmentViewer(actor), id);
    if (!row) throw notFound('The shipment');
    return row;
  }

  async function locked(tx: Tx, id: string, to: ShipmentState): Promise<ShipmentRow> {
    const row = await repo.forUpdate(tx, id);
    if (!row) throw notFound('The shipment');
    assertTransition('shipment', shipmentTransitions, row.state, to);
    return row;
  }

  async function event(tx: Tx, actor: Actor, shipmentId: string, kind: Parameters<typeof repo.insertEvent>[1]['kind'], data: Record<string, unknown> = {}): Promise<void> {
    await repo.insertEvent(tx, { id: crypto.randomUUID(), shipment_id: shipmentId, kind, actor_id: actor.userId, data });
  }

  /** Explains why reservation ids given by the curator cannot be shipped. */
  async function refuseReservations(tx: Tx, applicationId: string, ids: string[], shippable: Set<string>): Promise<never> {
    const known = new Map((await repo.reservationsById(tx, ids)).map((r) => [r.id, r]));
    const errors = ids.flatMap((id, i) => {
      if (shippable.has(id)) return [];
      const r = known.get(id);
      const message = !r ? 'no such reservation' : r.application_id !== applicationId ? 'is not a reservation for this application' : r.state !== 'active' ? `is ${r.state}` : 'is already in a shipment';
      return [{ field: `reservationIds.${i}`, message }];
    });
    throw new DomainError('validation-failed', `These reservations cannot be shipped: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, { errors });
  }

  const service = {
    /** Registers what must happen when a shipment is received (the loans feature opens the loan). */
    onReceived(hook: ReceiptHook): void {
      receiptHooks.push(hook);
    },

    async create(actor: Actor | null, input: ShipmentInput, key?: string): Promise<ShipmentView> {
      authorize(actor, 'shipment.create');
      const now = new Date();
      const loanDueAt = futureDate(input.loanDueAt, 'loanDueAt', now);
      const reportDueAt = futureDate(input.reportDueAt, 'reportDueAt', now);
      if (input.reservationIds && new Set(input.reservationIds).size !== input.reservationIds.length) throw invalid('reservationIds', 'lists a reservation twice');
      const who: LedgerActor = { actor };
      return idempotent(db, { userId: actor.userId, key, scope: 'shipment.create', input }, async (tx) => {
        const app = await info(tx, input.applicationId);
        const locked = await applications.findForUpdate(tx, input.applicationId);
        if (!locked) throw notFound('The application', 'applicationId');
        if (!shippableApplicationStates.includes(locked.state)) {
          throw new DomainError('invalid-state', `Material is shipped to allocated applications; this one is ${locked.state}`, { errors: [{ field: 'applicationId', message: `application is ${locked.state}` }] });
        }
        if (input.allocationId) {
          const allocation = await repo.allocationFor(tx, input.allocationId, app.id);
          if (!allocation) throw notFound('The allocation', 'allocationId');
          if (allocation.state !== 'executed') throw new DomainError('invalid-state', `The allocation is ${allocation.state}; material is shipped once it is executed`, { errors: [{ field: 'allocationId', message: `is ${allocation.state}` }] });
          if (allocation.lines === 0) throw invalid('allocationId', 'gives nothing to this application');
        }
        const reservations = await repo.shippableReservations(tx, app.id, input.reservationIds, input.allocationId);
        if (input.reservationIds && reservations.length !== input.reservationIds.length) await refuseReservations(tx, app.id, input.reservationIds, new Set(reservations.map((r) => r.id)));
        if (reservations.length === 0) throw new DomainError('invalid-state', 'No reserved material for this application awaits shipment', { errors: [{ field: 'applicationId', message: 'has no unshipped reservation' }] });
        const items: Array<{ sampleId: string; reservationId: string; quantity: bigint }> = [];
        for (const [i, r] of reservations.entries()) {
          if (r.collection_id !== app.collection_id) throw invalid(input.reservationIds ? `reservationIds.${i}` : 'applicationId', `sample ${r.identifier} is not in the call's collection`);
          if (r.quantity === r.sample_quantity) {
            items.push({ sampleId: r.sample_id, reservationId: r.id, quantity: r.quantity });
            continue;
          }
          // A reservation of part of a sample: the part is split off into its own sample, reserved the same way, and that travels.
          await ledger.release(tx, who, r.id, 'split off for shipment');
          const { children } = await ledger.split(tx, who, r.sample_id, { parts: [{ quantity: r.quantity }], reason: `split off the reserved part for a shipment to application ${app.id}` });
          const child = children[0]!;
          const reservation = await ledger.reserve(tx, who, child.id, { quantity: r.quantity, applicationId: app.id, note: `carried over from reservation ${r.id}` });
          items.push({ sampleId: child.id, reservationId: reservation.id, quantity: r.quantity });
        }
        const id = crypto.randomUUID();
        const reference = `SHP-${crypto.randomBytes(5).toString('hex').toUpperCase()}`;
        await repo.insertShipment(tx, { id, reference, application_id: app.id, note: input.note ?? null, loan_due_at: loanDueAt, report_due_at: reportDueAt, created_by: actor.userId });
        await repo.insertItems(tx, items.map((item, position) => ({ shipment_id: id, sample_id: item.sampleId, reservation_id: item.reservationId, quantity: item.quantity, position })));
        await event(tx, actor, id, 'created', { items: items.length });
        await audit(tx, actor, { id, application_id: app.id }, 'shipment.create', { reference, items: items.map((i) => ({ sampleId: i.sampleId, reservationId: i.reservationId, quantity: i.quantity.toString() })) });
        return view(tx, id);
      });
    },

    async get(actor: Actor | null, id: string): Promise<ShipmentView> {
      authorize(actor, 'shipment.read');
      await visible(actor, id);
      return view(db, id);
    },

    async list(actor: Actor | null, query: { limit: number; cursor?: string | undefined; applicationId?: string | undefined; state?: ShipmentState | undefined }) {
      authorize(actor, 'shipment.read');
      const rows = await repo.list(db, shipmentViewer(actor), { limit: query.limit + 1, after: decodeCursor(query.cursor), applicationId: query.applicationId, state: query.state });
      const page = rows.slice(0, query.limit);
      return { items: await render(db, page), nextCursor: rows.length > query.limit ? encodeCursor(page.at(-1)!) : null };
    },

    async pack(actor: Actor | null, id: string): Promise<ShipmentView> {
      authorize(actor, 'shipment.manage');
      return inTransaction(db, async (tx) => {
        const row = await locked(tx, id, 'packed');
        if (!(await repo.transition(tx, id, row.state, { state: 'packed', packed_at: new Date(), packed_by: actor.userId }))) throw new DomainError('conflict', 'The shipment changed at the same time; reload and try again');
        await event(tx, actor, id, 'packed');
        await audit(tx, actor, row, 'shipment.pack', { reference: row.reference });
        return view(tx, id);
      });
    },

    async dispatch(actor: Actor | null, id: string, input: DispatchInput, key?: string): Promise<ShipmentView> {
      authorize(actor, 'shipment.manage');
      const who: LedgerActor = { actor };
      return idempotent(db, { userId: actor.userId, key, scope: `shipment.dispatch:${id}`, input }, async (tx) => {
        const row = await locked(tx, id, 'dispatched');
        const items = await repo.items(tx, [id]);
        const reason = `shipment ${row.reference} dispatched via ${input.courier}, tracking ${input.trackingNumber}`;
        for (const item of items) {
          await ledger.fulfil(tx, who, item.reservation_id);
          await ledger.setState(tx, who, item.sample_id, { state: 'in_transit', movementKind: 'ship', reason });
        }
        const dispatchedAt = new Date();
        if (!(await repo.transition(tx, id, 'packed', { state: 'dispatched', dispatched_at: dispatchedAt, dispatched_by: actor.userId, courier: input.courier, tracking_number: input.trackingNumber }))) {
          throw new DomainError('conflict', 'The shipment changed at the same time; reload and try again');
        }
        await event(tx, actor, id, 'dispatched', { courier: input.courier, trackingNumber: input.trackingNumber });
        await audit(tx, actor, row, 'shipment.dispatch', { reference: row.reference, courier: input.courier, trackingNumber: input.trackingNumber, samples: items.map((i) => i.sample_id) });
        const application = (await applications.find(row.application_id, tx))!;
        if (application.state === 'allocated') await applications.advance(tx, actor, application.id, 'shipped', { shipmentId: id });
        await notifications.notify(tx, [application.applicant_id], {
          kind: 'shipment.dispatched',
          title: `Samples on their way: ${row.reference}`,
          body: `Shipment ${row.reference} for "${application.title}" left on ${dispatchedAt.toISOString()} with ${input.courier}, tracking number ${input.trackingNumber}. When it arrives, confirm in SampleBank the quantity and condition of each sample.`,
          entityType: 'shipment',
          entityId: id,
        });
        return view(tx, id);
      });
    },

    async cancel(actor: Actor | null, id: string, reason: string): Promise<ShipmentView> {
      authorize(actor, 'shipment.manage');
      return inTransaction(db, async (tx) => {
        const row = await locked(tx, id, 'cancelled');
        if (!(await repo.transition(tx, id, row.state, { state: 'cancelled', cancelled_at: new Date() }))) throw new DomainError('conflict', 'The shipment changed at the same time; reload and try again');
        await repo.cancelItems(tx, id);
        await event(tx, actor, id, 'cancelled', { reason });
        await audit(tx, actor, row, 'shipment.cancel', { reference: row.reference, reason });
        return view(tx, id);
      });
    },

    /** The recipient confirms what arrived: every sample of the shipment, with the quantity and condition found. */
    async receive(actor: Actor | null, id: string, input: ReceiptInput, key?: string): Promise<ShipmentView> {
      authorize(actor, 'shipment.receive');
      const who: LedgerActor = { actor };
      return idempotent(db, { userId: actor.userId, key, scope: `shipment.receive:${id}`, input }, async (tx) => {
        const seen = await visible(actor, id, tx);
        const app = await info(tx, seen.application_id);
        if (app.applicant_id !== actor.userId) throw forbidden('Only the recipient (the applicant) confirms receipt');
        const row = await locked(tx, id, 'received');
        const items = await repo.items(tx, [id]);
        const byId = new Map(items.map((i) => [i.sample_id, i]));
        const given = new Map<string, { item: ShipmentItemRow; found: bigint; condition: ItemCondition; note: string | null }>();
        input.items.forEach((entry, i) => {
          const item = byId.get(entry.sampleId);
          if (!item) throw invalid(`items.${i}.sampleId`, 'is not a sample of this shipment');
          if (given.has(entry.sampleId)) throw invalid(`items.${i}.sampleId`, 'is confirmed twice');
          const found = entry.condition === 'missing' ? 0n : parseQuantity(entry.quantity, app.scale, { field: `items.${i}.quantity`, allowZero: true });
          given.set(entry.sampleId, { item, found, condition: entry.condition, note: entry.note ?? null });
        });
        const unconfirmed = items.filter((i) => !given.has(i.sample_id));
        if (unconfirmed.length) throw invalid('items', `confirm every sample of the shipment; missing ${unconfirmed.map((i) => i.identifier).join(', ')}`);
        const fmt = (units: bigint) => `${formatQuantity(units, app.scale)} ${app.unit}`;
        const receivedAt = new Date();
        const opened: string[] = [];
        for (const { item, found, condition, note } of given.values()) {
          await repo.recordReceipt(tx, id, item.sample_id, { received_quantity: found, condition, receipt_note: note });
          await ledger.setState(tx, who, item.sample_id, { state: 'on_loan', movementKind: 'receive', reason: `shipment ${row.reference} received by the recipient (${condition})` });
          const found_ = discrepancy(item.quantity, found, condition, fmt);
          if (found_) {
            const incidentId = crypto.randomUUID();
            const description = `${item.identifier}: ${found_.description}${note ? ` - "${note}"` : ''}`.slice(0, 2000);
            await repo.insertIncident(tx, { id: incidentId, shipment_id: id, application_id: app.id, sample_id: item.sample_id, kind: found_.kind, expected: item.quantity, found, condition, description });
            await event(tx, actor, id, 'incident-opened', { incidentId, sampleId: item.sample_id, kind: found_.kind });
            await audit(tx, actor, row, 'shipment.incident.open', { incidentId, sampleId: item.sample_id, kind: found_.kind, expected: item.quantity.toString(), found: found.toString(), condition });
            opened.push(description);
          }
        }
        if (!(await repo.transition(tx, id, 'dispatched', { state: 'received', received_at: receivedAt, received_by: actor.userId, receipt_note: input.note ?? null }))) {
          throw new DomainError('conflict', 'The shipment changed at the same time; reload and try again');
        }
        await event(tx, actor, id, 'received', { incidents: opened.length });
        await audit(tx, actor, row, 'shipment.receive', { reference: row.reference, items: [...given.values()].map((g) => ({ sampleId: g.item.sample_id, found: g.found.toString(), condition: g.condition })) });
        const application = (await applications.find(app.id, tx))!;
        if (application.state === 'shipped') await applications.advance(tx, actor, app.id, 'received', { shipmentId: id });
        for (const hook of receiptHooks) {
          await hook(tx, actor, { shipment: row, application: app, items: [...given.values()].map((g) => ({ sampleId: g.item.sample_id, shipped: g.item.quantity, received: g.found })), receivedAt });
        }
        if (opened.length) {
          await notifications.notify(tx, await repo.curators(tx), {
            kind: 'shipment.incident',
            title: `Discrepancy on receipt of ${row.reference}`,
            body: `The recipient of shipment ${row.reference} ("${app.title}") reported:\n${opened.join('\n')}\nResolve the incident(s) in SampleBank.`,
            entityType: 'shipment',
            entityId: id,
          });
        }
        return view(tx, id);
      });
    },

    async incidents(actor: Actor | null, query: { limit: number; cursor?: string | undefined; state?: 'open' | 'resolved' | undefined; applicationId?: string | undefined }) {
      authorize(actor, 'incident.read');
      const rows = await repo.incidents(db, shipmentViewer(actor), { limit: query.limit + 1, after: decodeCursor(query.cursor), state: query.state, applicationId: query.applicationId });
      const page = rows.slice(0, query.limit);
      const scales = new Map<string, number>();
      for (const applicationId of new Set(page.map((r) => r.application_id))) scales.set(applicationId, (await info(db, applicationId)).scale);
      return { items: page.map((r) => toIncident(r, scales.get(r.application_id)!)), nextCursor: rows.length > query.limit ? encodeCursor(page.at(-1)!) : null };
    },

    /**
     * A curator closes an incident: `accept` keeps the ledger as shipped (a
     * weighing difference, cosmetic damage); `adjust` corrects the loaned
     * sample to the quantity found, recording the difference as an adjustment.
     */
    async resolveIncident(actor: Actor | null, id: string, input: ResolveInput, key?: string): Promise<IncidentView> {
      authorize(actor, 'incident.resolve');
      const who: LedgerActor = { actor };
      return idempotent(db, { userId: actor.userId, key, scope: `incident.resolve:${id}`, input }, async (tx) => {
        const incident = await repo.incident(tx, id);
        if (!incident) throw notFound('The incident');
        const app = await info(tx, incident.application_id);
        if (!(await repo.resolveIncident(tx, id, { action: input.action, resolution: input.resolution, resolved_by: actor.userId }))) {
          throw new DomainError('invalid-state', 'The incident is already resolved', { errors: [{ field: 'state', message: 'is resolved' }] });
        }
        const delta = incident.found - incident.expected;
        if (input.action === 'adjust' && delta !== 0n) {
          await ledger.adjust(tx, who, incident.sample_id, delta, `incident on shipment ${incident.reference}: ${input.resolution}`.slice(0, 2000));
        }
        await event(tx, actor, incident.shipment_id, 'incident-resolved', { incidentId: id, action: input.action });
        await audit(tx, actor, { id: incident.shipment_id, application_id: incident.application_id }, 'shipment.incident.resolve', { incidentId: id, action: input.action, resolution: input.resolution, delta: input.action === 'adjust' ? delta.toString() : '0' });
        await notifications.notify(tx, [app.applicant_id], {
          kind: 'shipment.incident.resolved',
          title: `Incident on ${incident.reference} resolved`,
          body: `The curator resolved the discrepancy you reported on ${incident.identifier}: ${input.resolution}`,
          entityType: 'shipment',
          entityId: incident.shipment_id,
        });
        return toIncident((await repo.incident(tx, id))!, app.scale);
      });
    },

    async document(actor: Actor | null, id: string, which: 'packing-list' | 'labels'): Promise<{ fileName: string; content: Uint8Array }> {
      authorize(actor, 'shipment.read');
      await visible(actor, id);
      const shipment = await view(db, id);
      const app = await info(db, shipment.applicationId);
      const printable: PrintableShipment = {
        reference: shipment.reference,
        state: shipment.state,
        createdAt: new Date(shipment.createdAt),
        packedAt: shipment.packedAt ? new Date(shipment.packedAt) : null,
        dispatchedAt: shipment.dispatchedAt ? new Date(shipment.dispatchedAt) : null,
        courier: shipment.courier,
        trackingNumber: shipment.trackingNumber,
        application: { id: shipment.applicationId, title: shipment.applicationTitle },
        recipient: { name: app.applicant_name, email: app.applicant_email, institution: app.institution_name },
        unit: shipment.unit,
        total: shipment.total,
        items: shipment.items.map((i) => ({ identifier: i.identifier, kind: i.kind, quantity: i.quantity, parentIdentifier: i.parentIdentifier })),
        declaration: (await shipmentDeclaration(db, shipment.items)).lines,
      };
      const content = which === 'labels' ? await labelsPdf(printable) : await packingListPdf(printable);
      return { fileName: `${shipment.reference}-${which}.pdf`, content };
    },

    // ---- for the loans feature ----
    openIncidentCount: (applicationId: string, executor: Executor = db) => repo.openIncidentCount(executor, applicationId),
    pendingShipmentCount: (applicationId: string, executor: Executor = db) => repo.pendingShipmentCount(executor, applicationId),
    applicationInfo: (applicationId: string, executor: Executor = db) => info(executor, applicationId),
    curators: (executor: Executor = db) => repo.curators(executor),
  };
  return service;
}
