/**
 * Loans: material received by a recipient is on loan until every unit is
 * returned (a new sample split from the loaned one, marked `returned`) or
 * reported consumed, a result report is filed, and every incident is resolved.
 * Reminders go out before the due dates; an applicant with an overdue
 * obligation cannot apply again (SAMPLEBANK_BLOCK_OVERDUE).
 */
import crypto from 'node:crypto';
import { hasRole, type Actor } from '../../core/actor.js';
import { addDays, closeBlockers, DEFAULT_LOAN_DAYS, DEFAULT_REPORT_DAYS, dueSoon, normaliseDoi, overdue, REMINDER_DAYS, type Overdue } from '../../core/distribution.js';
import { DomainError, forbidden, invalid, notFound, type FieldError } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import { formatQuantity, parseQuantity } from '../../core/quantity.js';
import type { ApplicationState } from '../../core/workflow.js';
import type { DB } from '../../platform/db/database.js';
import { idempotent, inTransaction, isUniqueViolation, type Executor, type Tx } from '../../platform/db/tx.js';
import type { ApplicationsService } from '../applications/applications.service.js';
import { recordAudit } from '../audit/audit.service.js';
import type { DistributionService } from '../distribution/distribution.service.js';
import { ledger, type LedgerActor } from '../inventory/ledger.js';
import type { NotificationsService } from '../notifications/notifications.service.js';
import { loansRepository as repo, type LoanRow, type LoanViewer, type ReturnRow } from './loans.repository.js';

const NOBODY = '00000000-0000-0000-0000-000000000000';

export interface LoansOptions {
  /** Refuse new applications from applicants with an overdue obligation (default on). */
  blockOverdue: boolean;
  /** Tests and the demo pass their own clock. */
  now?: () => Date;
}

export interface ReturnInput {
  items: Array<{ sampleId: string; quantity: string; condition?: 'intact' | 'damaged' | undefined; note?: string | undefined }>;
}

export interface ConsumptionInput {
  items: Array<{ sampleId: string; quantity: string; note: string }>;
}

export interface LoanView {
  id: string;
  applicationId: string;
  applicationTitle: string;
  applicationState: string;
  applicant: { id: string; name: string; institutionId: string; institution: string | null };
  state: 'open' | 'closed';
  dueAt: string;
  reportDueAt: string;
  openedAt: string;
  closedAt: string | null;
  closeNote: string | null;
  unit: string;
  loaned: string;
  returned: string;
  consumed: string;
  /** Corrections by incident resolutions (negative when less was found than shipped). */
  adjusted: string;
  outstanding: string;
  overdue: Overdue;
  blockers: FieldError[];
  samples: Array<{ sampleId: string; identifier: string; kind: string; shipmentId: string; loaned: string; held: string; state: string }>;
  entries: Array<{
    id: string;
    kind: 'return' | 'consume';
    sampleId: string;
    quantity: string;
    returnedSampleId: string | null;
    returnedIdentifier: string | null;
    condition: string | null;
    note: string | null;
    createdAt: string;
    /** A return's receipt by the curator (null while the material is on its way back). */
    receivedAt: string | null;
    receivedQuantity: string | null;
    receivedCondition: string | null;
    receiptNote: string | null;
  }>;
  reports: Array<{ id: string; summary: string; filedAt: string }>;
  publications: Array<{ id: string; doi: string; title: string; acknowledgement: string; registeredAt: string }>;
}

export interface ReturnReceiptInput {
  quantity?: string | undefined;
  condition: 'intact' | 'damaged';
  locationId?: string | null | undefined;
  position?: string | null | undefined;
  note?: string | undefined;
}

/** A return on the curator's returns desk: on its way back, or received. */
export interface ReturnView {
  id: string;
  loanId: string;
  applicationId: string;
  applicationTitle: string;
  applicant: { id: string; name: string; institution: string | null };
  sampleId: string;
  sampleIdentifier: string;
  kind: string;
  returnedSampleId: string;
  returnedIdentifier: string;
  returnedState: string | null;
  locationId: string | null;
  quantity: string;
  unit: string;
  condition: string | null;
  note: string | null;
  returnedAt: string;
  state: 'in_transit' | 'received';
  receivedAt: string | null;
  receivedQuantity: string | null;
  receivedCondition: string | null;
  receiptNote: string | null;
}

export function loanViewer(actor: Actor): LoanViewer {
  return { userId: actor.userId ?? NOBODY, privileged: actor.userId === null || hasRole(actor, 'curator', 'admin', 'auditor', 'chair') };
}

function encodeCursor(row: LoanRow): string {
  return Buffer.from(`${row.due_at.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string | undefined): { at: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  if (!id || Number.isNaN(date.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) throw invalid('cursor', 'is not a cursor this list gave');
  return { at: date, id };
}

function decodeReturnCursor(cursor: string | undefined): { at: Date; id: string } | undefined {
  return decodeCursor(cursor);
}

export type LoansService = ReturnType<typeof createLoansService>;

export function createLoansService(db: DB, deps: { applications: ApplicationsService; distribution: DistributionService; notifications: NotificationsService }, options: LoansOptions) {
  const { applications, distribution, notifications } = deps;
  const clock = options.now ?? (() => new Date());

  async function audit(tx: Tx, actor: Actor, loan: { id: string; application_id: string }, action: string, data: Record<string, unknown> = {}): Promise<void> {
    await recordAudit(tx, actor, { stream: `loan:${loan.id}`, action, entityType: 'loan', entityId: loan.id, data: { applicationId: loan.application_id, ...data } });
  }

  async function render(executor: Executor, rows: LoanRow[]): Promise<LoanView[]> {
    const ids = rows.map((r) => r.id);
    const [samples, entries, reports, publications, people] = await Promise.all([
      repo.samples(executor, ids),
      repo.entries(executor, ids),
      repo.reports(executor, ids),
      repo.publications(executor, ids),
      repo.people(executor, [...new Set(rows.map((r) => r.applicant_id))]),
    ]);
    const now = clock();
    const views: LoanView[] = [];
    for (const row of rows) {
      const app = await distribution.applicationInfo(row.application_id, executor);
      const application = await applications.find(row.application_id, executor);
      const fmt = (units: bigint) => formatQuantity(units, app.scale);
      const mine = samples.filter((s) => s.loan_id === row.id);
      const myEntries = entries.filter((e) => e.loan_id === row.id);
      const loaned = mine.reduce((sum, s) => sum + s.loaned, 0n);
      const outstanding = mine.reduce((sum, s) => sum + s.held, 0n);
      const returned = myEntries.filter((e) => e.kind === 'return').reduce((sum, e) => sum + e.quantity, 0n);
      const consumed = myEntries.filter((e) => e.kind === 'consume').reduce((sum, e) => sum + e.quantity, 0n);
      const reportCount = reports.filter((r) => r.loan_id === row.id).length;
      const facts = {
        state: row.state,
        dueAt: row.due_at,
        reportDueAt: row.report_due_at,
        reports: reportCount,
        outstanding,
        openIncidents: await distribution.openIncidentCount(row.application_id, executor),
        shipmentsInTransit: await distribution.pendingShipmentCount(row.application_id, executor),
        returnsInTransit: myEntries.filter((e) => e.kind === 'return' && e.received_at === null).length,
      };
      const person = people.find((p) => p.id === row.applicant_id);
      views.push({
        id: row.id,
        applicationId: row.application_id,
        applicationTitle: app.title,
        applicationState: application?.state ?? 'unknown',
        applicant: { id: row.applicant_id, name: person?.name ?? '', institutionId: row.institution_id, institution: person?.institution ?? null },
        state: row.state,
        dueAt: row.due_at.toISOString(),
        reportDueAt: row.report_due_at.toISOString(),
        openedAt: row.opened_at.toISOString(),
        closedAt: row.closed_at?.toISOString() ?? null,
        closeNote: row.close_note,
        unit: app.unit,
        loaned: fmt(loaned),
        returned: fmt(returned),
        consumed: fmt(consumed),
        adjusted: fmt(outstanding + returned + consumed - loaned),
        outstanding: fmt(outstanding),
        overdue: overdue(facts, now),
        blockers: row.state === 'open' ? closeBlockers(facts, (u) => `${fmt(u)} ${app.unit}`) : [],
        samples: mine.map((s) => ({ sampleId: s.sample_id, identifier: s.identifier, kind: s.kind, shipmentId: s.shipment_id, loaned: fmt(s.loaned), held: fmt(s.held), state: s.sample_state })),
        entries: myEntries.map((e) => ({
          id: e.id,
          kind: e.kind,
          sampleId: e.sample_id,
          quantity: fmt(e.quantity),
          returnedSampleId: e.returned_sample_id,
          returnedIdentifier: e.returned_identifier,
          condition: e.condition,
          note: e.note,
          createdAt: e.created_at.toISOString(),
          receivedAt: e.received_at?.toISOString() ?? null,
          receivedQuantity: e.received_quantity === null ? null : fmt(e.received_quantity),
          receivedCondition: e.received_condition,
          receiptNote: e.receipt_note,
        })),
        reports: reports.filter((r) => r.loan_id === row.id).map((r) => ({ id: r.id, summary: r.summary, filedAt: r.filed_at.toISOString() })),
        publications: publications.filter((p) => p.loan_id === row.id).map((p) => ({ id: p.id, doi: p.doi, title: p.title, acknowledgement: p.acknowledgement, registeredAt: p.registered_at.toISOString() })),
      });
    }
    return views;
  }

  async function renderReturns(executor: Executor, rows: ReturnRow[]): Promise<ReturnView[]> {
    const people = await repo.people(executor, [...new Set(rows.map((r) => r.applicant_id))]);
    const apps = new Map<string, Awaited<ReturnType<typeof distribution.applicationInfo>>>();
    const views: ReturnView[] = [];
    for (const row of rows) {
      const app = apps.get(row.application_id) ?? (await distribution.applicationInfo(row.application_id, executor));
      apps.set(row.application_id, app);
      const fmt = (units: bigint) => formatQuantity(units, app.scale);
      const person = people.find((p) => p.id === row.applicant_id);
      views.push({
        id: row.id,
        loanId: row.loan_id,
        applicationId: row.application_id,
        applicationTitle: app.title,
        applicant: { id: row.applicant_id, name: person?.name ?? '', institution: person?.institution ?? null },
        sampleId: row.sample_id,
        sampleIdentifier: row.sample_identifier,
        kind: row.sample_kind,
        returnedSampleId: row.returned_sample_id!,
        returnedIdentifier: row.returned_identifier ?? '',
        returnedState: row.returned_state,
        locationId: row.returned_location_id,
        quantity: fmt(row.quantity),
        unit: app.unit,
        condition: row.condition,
        note: row.note,
        returnedAt: row.created_at.toISOString(),
        state: row.received_at ? 'received' : 'in_transit',
        receivedAt: row.received_at?.toISOString() ?? null,
        receivedQuantity: row.received_quantity === null ? null : fmt(row.received_quantity),
        receivedCondition: row.received_condition,
        receiptNote: row.receipt_note,
      });
    }
    return views;
  }

  async function view(executor: Executor, id: string): Promise<LoanView> {
    const row = await repo.find(executor, id);
    if (!row) throw notFound('The loan');
    return (await render(executor, [row]))[0]!;
  }

  async function visible(actor: Actor, id: string, executor: Executor = db): Promise<LoanRow> {
    const row = await repo.findVisible(executor, loanViewer(actor), id);
    if (!row) throw notFound('The loan');
    return row;
  }

  /** The loan locked, for its recipient only, and open. */
  async function ownOpen(tx: Tx, actor: Actor, id: string): Promise<LoanRow> {
    await visible(actor, id, tx);
    const row = (await repo.forUpdate(tx, id))!;
    if (row.applicant_id !== actor.userId) throw forbidden('Only the recipient of the loan may do this');
    if (row.state !== 'open') throw new DomainError('invalid-state', 'The loan is closed', { errors: [{ field: 'state', message: 'is closed' }] });
    return row;
  }

  /** Moves the application forward through the given states as far as they apply. */
  async function advanceApplication(tx: Tx, actor: Actor, applicationId: string, path: ApplicationState[], data: Record<string, unknown>): Promise<void> {
    for (const to of path) {
      const application = (await applications.find(applicationId, tx))!;
      const order: ApplicationState[] = ['shipped', 'received', 'reporting', 'closed'];
      if (order.indexOf(application.state) >= order.indexOf(to)) continue;
      await applications.advance(tx, actor, applicationId, to, data);
    }
  }

  /** The sample of this loan, locked, with the quantity asked checked against what the recipient holds. */
  async function loanedSample(tx: Tx, loan: LoanRow, sampleId: string, quantityText: string, scale: number, unit: string, field: string) {
    const loaned = (await repo.samples(tx, [loan.id])).find((s) => s.sample_id === sampleId);
    if (!loaned) throw invalid(`${field}.sampleId`, 'is not a sample of this loan');
    const sample = await ledger.forUpdate(tx, sampleId);
    const quantity = parseQuantity(quantityText, scale, { field: `${field}.quantity` });
    if (quantity > sample.quantity) {
      throw new DomainError('insufficient-quantity', `You hold ${formatQuantity(sample.quantity, scale)} ${unit} of ${sample.identifier}; ${formatQuantity(quantity, scale)} ${unit} cannot be accounted for`, {
        errors: [{ field: `${field}.quantity`, message: `at most ${formatQuantity(sample.quantity, scale)} ${unit} is held` }],
      });
    }
    return { sample, quantity };
  }

  // A received shipment opens the loan (or adds to the application's open loan).
  distribution.onReceived(async (tx, actor, { shipment, application, items, receivedAt }) => {
    let loan = await repo.byApplicationForUpdate(tx, application.id);
    const dueAt = shipment.loan_due_at ?? addDays(receivedAt, DEFAULT_LOAN_DAYS);
    const reportDueAt = shipment.report_due_at ?? addDays(receivedAt, DEFAULT_REPORT_DAYS);
    if (!loan) {
      const id = crypto.randomUUID();
      await repo.insert(tx, { id, application_id: application.id, applicant_id: application.applicant_id, institution_id: application.institution_id, due_at: dueAt, report_due_at: reportDueAt });
      loan = (await repo.forUpdate(tx, id))!;
      await audit(tx, actor, loan, 'loan.open', { shipmentId: shipment.id, dueAt: dueAt.toISOString(), reportDueAt: reportDueAt.toISOString() });
    } else if (loan.state !== 'open') {
      throw new DomainError('invalid-state', 'The loan of this application is closed; material cannot be added to it', { errors: [{ field: 'state', message: 'loan is closed' }] });
    } else {
      const later = { due_at: dueAt > loan.due_at ? dueAt : loan.due_at, report_due_at: reportDueAt > loan.report_due_at ? reportDueAt : loan.report_due_at };
      await repo.update(tx, loan.id, later);
      await audit(tx, actor, loan, 'loan.extend', { shipmentId: shipment.id, dueAt: later.due_at.toISOString(), reportDueAt: later.report_due_at.toISOString() });
    }
    await repo.addSamples(tx, items.map((i) => ({ loan_id: loan.id, sample_id: i.sampleId, shipment_id: shipment.id, quantity: i.shipped })));
    await notifications.notify(tx, [application.applicant_id], {
      kind: 'loan.opened',
      title: `Loan obligations for "${application.title}"`,
      body: `The material of shipment ${shipment.reference} is on loan to you. File a result report by ${reportDueAt.toISOString().slice(0, 10)}; return or report as consumed every unit by ${dueAt.toISOString().slice(0, 10)}; register publications with the acknowledgement.`,
      entityType: 'loan',
      entityId: loan.id,
    });
  });

  const service = {
    async get(actor: Actor | null, id: string): Promise<LoanView> {
      authorize(actor, 'loan.read');
      await visible(actor, id);
      return view(db, id);
    },

    async list(actor: Actor | null, query: { limit: number; cursor?: string | undefined; state?: 'open' | 'closed' | undefined; overdue?: boolean | undefined; applicationId?: string | undefined }) {
      authorize(actor, 'loan.read');
      const rows = await repo.list(db, loanViewer(actor), { limit: query.limit + 1, after: decodeCursor(query.cursor), state: query.state, overdueAt: query.overdue ? clock() : undefined, applicationId: query.applicationId });
      const page = rows.slice(0, query.limit);
      return { items: await render(db, page), nextCursor: rows.length > query.limit ? encodeCursor(page.at(-1)!) : null };
    },

    /** The curator sets the due dates; a changed date is reminded again. */
    async update(actor: Actor | null, id: string, input: { dueAt?: string | undefined; reportDueAt?: string | undefined }): Promise<LoanView> {
      authorize(actor, 'loan.manage');
      return inTransaction(db, async (tx) => {
        const loan = await repo.forUpdate(tx, id);
        if (!loan) throw notFound('The loan');
        if (loan.state !== 'open') throw new DomainError('invalid-state', 'The loan is closed', { errors: [{ field: 'state', message: 'is closed' }] });
        const changes: Record<string, unknown> = {};
        if (input.dueAt !== undefined) Object.assign(changes, { due_at: new Date(input.dueAt), due_reminded_at: null, overdue_notified_at: null });
        if (input.reportDueAt !== undefined) Object.assign(changes, { report_due_at: new Date(input.reportDueAt), report_reminded_at: null, overdue_notified_at: null });
        if (Object.keys(changes).length === 0) throw invalid('body', 'give dueAt or reportDueAt');
        await repo.update(tx, id, changes, 'open');
        await audit(tx, actor, loan, 'loan.dates', { dueAt: input.dueAt ?? null, reportDueAt: input.reportDueAt ?? null });
        return view(tx, id);
      });
    },

    async fileReport(actor: Actor | null, id: string, input: { summary: string }): Promise<LoanView> {
      authorize(actor, 'loan.fulfil');
      return inTransaction(db, async (tx) => {
        const loan = await ownOpen(tx, actor, id);
        const reportId = crypto.randomUUID();
        await repo.insertReport(tx, { id: reportId, loan_id: id, summary: input.summary, filed_by: actor.userId });
        await audit(tx, actor, loan, 'loan.report', { reportId, characters: input.summary.length });
        await advanceApplication(tx, actor, loan.application_id, ['reporting'], { loanId: id, reportId });
        await notifications.notify(tx, await distribution.curators(tx), { kind: 'loan.report', title: 'A result report was filed', body: `The recipient of loan ${id} filed a result report.`, entityType: 'loan', entityId: id });
        return view(tx, id);
      });
    },

    async addPublication(actor: Actor | null, id: string, input: { doi: string; title: string; acknowledgement: string }): Promise<LoanView> {
      authorize(actor, 'loan.fulfil');
      const doi = normaliseDoi(input.doi);
      if (!doi) throw invalid('doi', 'is not a DOI (10.<registrant>/<suffix>, e.g. 10.1038/s41586-021-04100-2)');
      return inTransaction(db, async (tx) => {
        await visible(actor, id, tx);
        const loan = (await repo.forUpdate(tx, id))!;
        if (loan.applicant_id !== actor.userId) throw forbidden('Only the recipient of the loan may register its publications');
        const publicationId = crypto.randomUUID();
        try {
          await repo.insertPublication(tx, { id: publicationId, loan_id: id, doi, title: input.title, acknowledgement: input.acknowledgement, registered_by: actor.userId });
        } catch (error) {
          if (isUniqueViolation(error, 'loan_publications_doi')) throw new DomainError('duplicate', `Publication ${doi} is already registered for this loan`, { errors: [{ field: 'doi', message: 'is already registered' }] });
          throw error;
        }
        await audit(tx, actor, loan, 'loan.publication', { publicationId, doi });
        return view(tx, id);
      });
    },

    /** Whole or partial returns: each becomes a new sample split from the loaned one, marked returned and unplaced (kept apart). */
    async returnMaterial(actor: Actor | null, id: string, input: ReturnInput, key?: string): Promise<LoanView> {
      authorize(actor, 'loan.fulfil');
      const who: LedgerActor = { actor };
      return idempotent(db, { userId: actor.userId, key, scope: `loan.return:${id}`, input }, async (tx) => {
        const loan = await ownOpen(tx, actor, id);
        const app = await distribution.applicationInfo(loan.application_id, tx);
        const returned: Array<{ sampleId: string; returnedSampleId: string; quantity: string }> = [];
        for (const [i, item] of input.items.entries()) {
          const { sample, quantity } = await loanedSample(tx, loan, item.sampleId, item.quantity, app.scale, app.unit, `items.${i}`);
          if (sample.state !== 'on_loan') throw new DomainError('invalid-state', `Sample ${sample.identifier} is ${sample.state}, not on loan`, { errors: [{ field: `items.${i}.sampleId`, message: `is ${sample.state}` }] });
          const reason = `returned from loan ${id}${item.note ? `: ${item.note}` : ''}`.slice(0, 2000);
          const { parent, children } = await ledger.split(tx, who, sample.id, { parts: [{ quantity, locationId: null }], reason });
          const child = children[0]!;
          await ledger.setState(tx, who, child.id, { state: 'returned', movementKind: 'return', reason });
          if (parent.quantity === 0n) await ledger.setState(tx, who, parent.id, { state: 'returned', movementKind: 'return', reason: `all of the loaned material is accounted for (loan ${id})` });
          await repo.insertEntry(tx, { id: crypto.randomUUID(), loan_id: id, sample_id: sample.id, kind: 'return', quantity, returned_sample_id: child.id, condition: item.condition ?? 'intact', note: item.note ?? null, created_by: actor.userId });
          returned.push({ sampleId: sample.id, returnedSampleId: child.id, quantity: quantity.toString() });
        }
        await audit(tx, actor, loan, 'loan.return', { items: returned });
        await notifications.notify(tx, await distribution.curators(tx), {
          kind: 'loan.return',
          title: `Material returned on "${app.title}"`,
          body: `${returned.length} returned sample(s) are recorded as returned and unplaced; store them apart from pristine material.`,
          entityType: 'loan',
          entityId: id,
        });
        return view(tx, id);
      });
    },

    /** Returns across loans for the curator's returns desk: on their way back (in_transit) or received. */
    async returns(actor: Actor | null, query: { limit: number; cursor?: string | undefined; state?: 'in_transit' | 'received' | undefined; loanId?: string | undefined }): Promise<{ items: ReturnView[]; nextCursor: string | null }> {
      authorize(actor, 'loan.read');
      if (!loanViewer(actor).privileged) throw forbidden('The returns desk is for curators; a recipient sees their returns on their loan');
      const rows = await repo.returns(db, { limit: query.limit + 1, after: decodeReturnCursor(query.cursor), received: query.state === undefined ? undefined : query.state === 'received', loanId: query.loanId });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return { items: await renderReturns(db, page), nextCursor: rows.length > query.limit && last ? Buffer.from(`${last.created_at.toISOString()}|${last.id}`).toString('base64url') : null };
    },

    /**
     * The curator records that returned material arrived back: what was found
     * (less than declared is recorded as an adjustment of the returned sample,
     * with the reason), its condition (damaged material is quarantined), and
     * where it is stored (apart from pristine material).
     */
    async receiveReturn(actor: Actor | null, entryId: string, input: ReturnReceiptInput, key?: string): Promise<ReturnView> {
      authorize(actor, 'loan.manage');
      const who: LedgerActor = { actor };
      return idempotent(db, { userId: actor.userId, key, scope: `loan.return.receipt:${entryId}`, input }, async (tx) => {
        const entry = await repo.entryForUpdate(tx, entryId);
        if (!entry || entry.kind !== 'return' || !entry.returned_sample_id) throw notFound('The return');
        if (entry.received_at) {
          throw new DomainError('invalid-state', `This return was already received on ${entry.received_at.toISOString().slice(0, 10)}`, { errors: [{ field: 'receivedAt', message: 'is already set' }] });
        }
        const loan = (await repo.forUpdate(tx, entry.loan_id))!;
        const app = await distribution.applicationInfo(loan.application_id, tx);
        const declared = entry.quantity;
        const found = input.quantity === undefined ? declared : parseQuantity(input.quantity, app.scale, { field: 'quantity', allowZero: true });
        const fmt = (units: bigint) => `${formatQuantity(units, app.scale)} ${app.unit}`;
        if (found > declared) throw invalid('quantity', `is more than the ${fmt(declared)} declared returned; the recipient records any further return`);
        const identifier = entry.returned_identifier ?? entry.returned_sample_id;
        const reason = `returned material received from loan ${loan.id}: ${fmt(found)} found of ${fmt(declared)} declared, ${input.condition}${input.note ? `; ${input.note}` : ''}`.slice(0, 2000);
        if (found < declared) await ledger.adjust(tx, who, entry.returned_sample_id, found - declared, reason);
        if (input.locationId !== undefined) await ledger.move(tx, who, entry.returned_sample_id, { locationId: input.locationId, position: input.position ?? null, reason });
        await ledger.setState(tx, who, entry.returned_sample_id, { state: input.condition === 'damaged' ? 'quarantined' : 'returned', movementKind: 'receive', reason });
        const recorded = await repo.recordReturnReceipt(tx, entryId, { received_by: actor.userId, received_quantity: found, received_condition: input.condition, receipt_note: input.note ?? null });
        if (!recorded) throw new DomainError('conflict', 'The return was received at the same time; reload it');
        await audit(tx, actor, loan, 'loan.return.receive', { entryId, sampleId: entry.returned_sample_id, identifier, declared: declared.toString(), found: found.toString(), condition: input.condition, locationId: input.locationId ?? null });
        const row = (await repo.returns(tx, { limit: 10_000, loanId: loan.id, received: true })).find((r) => r.id === entryId)!;
        return (await renderReturns(tx, [row]))[0]!;
      });
    },

    /** The recipient reports what their analyses used up. */
    async reportConsumption(actor: Actor | null, id: string, input: ConsumptionInput, key?: string): Promise<LoanView> {
      authorize(actor, 'loan.fulfil');
      const who: LedgerActor = { actor };
      return idempotent(db, { userId: actor.userId, key, scope: `loan.consume:${id}`, input }, async (tx) => {
        const loan = await ownOpen(tx, actor, id);
        const app = await distribution.applicationInfo(loan.application_id, tx);
        const consumed: Array<{ sampleId: string; quantity: string }> = [];
        for (const [i, item] of input.items.entries()) {
          const { sample, quantity } = await loanedSample(tx, loan, item.sampleId, item.quantity, app.scale, app.unit, `items.${i}`);
          if (sample.state !== 'on_loan') throw new DomainError('invalid-state', `Sample ${sample.identifier} is ${sample.state}, not on loan`, { errors: [{ field: `items.${i}.sampleId`, message: `is ${sample.state}` }] });
          await ledger.consume(tx, who, sample.id, quantity, `consumed under loan ${id}: ${item.note}`.slice(0, 2000));
          await repo.insertEntry(tx, { id: crypto.randomUUID(), loan_id: id, sample_id: sample.id, kind: 'consume', quantity, returned_sample_id: null, condition: null, note: item.note, created_by: actor.userId });
          consumed.push({ sampleId: sample.id, quantity: quantity.toString() });
        }
        await audit(tx, actor, loan, 'loan.consume', { items: consumed });
        return view(tx, id);
      });
    },

    /** Closes the loan when every unit is accounted for, a report is filed, nothing is in transit and no incident is open. */
    async close(actor: Actor | null, id: string, input: { note?: string | undefined }): Promise<LoanView> {
      authorize(actor, 'loan.manage');
      return inTransaction(db, async (tx) => {
        const loan = await repo.forUpdate(tx, id);
        if (!loan) throw notFound('The loan');
        const app = await distribution.applicationInfo(loan.application_id, tx);
        const facts = {
          state: loan.state,
          dueAt: loan.due_at,
          reportDueAt: loan.report_due_at,
          reports: await repo.reportCount(tx, id),
          outstanding: await repo.outstanding(tx, id),
          openIncidents: await distribution.openIncidentCount(loan.application_id, tx),
          shipmentsInTransit: await distribution.pendingShipmentCount(loan.application_id, tx),
          returnsInTransit: await repo.returnsInTransit(tx, id),
        };
        const blockers = closeBlockers(facts, (u) => `${formatQuantity(u, app.scale)} ${app.unit}`);
        if (blockers.length) throw new DomainError('invalid-state', `The loan cannot close yet: ${blockers.map((b) => `${b.field} ${b.message}`).join('; ')}`, { errors: blockers });
        if (!(await repo.update(tx, id, { state: 'closed', closed_at: new Date(), closed_by: actor.userId, close_note: input.note ?? null }, 'open'))) throw new DomainError('conflict', 'The loan changed at the same time; reload and try again');
        await audit(tx, actor, loan, 'loan.close', { note: input.note ?? null });
        await advanceApplication(tx, actor, loan.application_id, ['reporting', 'closed'], { loanId: id });
        await notifications.notify(tx, [loan.applicant_id], { kind: 'loan.closed', title: `Loan closed: "${app.title}"`, body: `Every unit of the material lent for "${app.title}" is accounted for and your obligations are met. Thank you.`, entityType: 'loan', entityId: id });
        return view(tx, id);
      });
    },

    /**
     * Reminds recipients of due dates within REMINDER_DAYS (once per date) and
     * tells the recipient and the curators when an obligation becomes overdue
     * (once). Run by the server every minute; callable directly.
     */
    async sendReminders(now: Date = clock()): Promise<{ reminders: number; overdue: number }> {
      const candidates = await repo.reminderCandidates(db, now, addDays(now, REMINDER_DAYS));
      let reminders = 0;
      let overdueCount = 0;
      if (candidates.length === 0) return { reminders, overdue: overdueCount };
      await inTransaction(db, async (tx) => {
        const curators = await distribution.curators(tx);
        for (const candidate of candidates) {
          // Locked and read again: another server process may have sent these reminders since the candidates were read.
          const locked = await repo.forUpdate(tx, candidate.id);
          if (!locked || locked.state !== 'open') continue;
          const loan = { ...locked, title: candidate.title };
          const reports = await repo.reportCount(tx, loan.id);
          const outstanding = await repo.outstanding(tx, loan.id);
          const late = overdue({ state: loan.state, dueAt: loan.due_at, reportDueAt: loan.report_due_at, reports, outstanding }, now);
          const changes: Record<string, unknown> = {};
          if (!loan.report_reminded_at && dueSoon(loan.report_due_at, now)) {
            changes.report_reminded_at = now;
            if (reports === 0 && !late.report) {
              await notifications.notify(tx, [loan.applicant_id], { kind: 'loan.reminder.report', title: `Result report due ${loan.report_due_at.toISOString().slice(0, 10)}`, body: `Your result report on "${loan.title}" is due by ${loan.report_due_at.toISOString()}.`, entityType: 'loan', entityId: loan.id });
              reminders++;
            }
          }
          if (!loan.due_reminded_at && dueSoon(loan.due_at, now)) {
            changes.due_reminded_at = now;
            if (outstanding > 0n && !late.material) {
              await notifications.notify(tx, [loan.applicant_id], { kind: 'loan.reminder.return', title: `Material due back ${loan.due_at.toISOString().slice(0, 10)}`, body: `Return or report as consumed the material lent for "${loan.title}" by ${loan.due_at.toISOString()}.`, entityType: 'loan', entityId: loan.id });
              reminders++;
            }
          }
          if (!loan.overdue_notified_at && (late.report || late.material)) {
            changes.overdue_notified_at = now;
            const what = [late.report ? 'the result report' : null, late.material ? 'the return or consumption report of the material' : null].filter(Boolean).join(' and ');
            await notifications.notify(tx, [loan.applicant_id, ...curators], { kind: 'loan.overdue', title: `Overdue: ${what}`, body: `On the loan for "${loan.title}", ${what} is overdue. Until it is done, the recipient cannot submit new applications.`, entityType: 'loan', entityId: loan.id });
            overdueCount++;
          }
          if (Object.keys(changes).length) await repo.update(tx, loan.id, changes);
        }
      });
      return { reminders, overdue: overdueCount };
    },

    /** The reminders run on demand by a curator. */
    async remindNow(actor: Actor | null): Promise<{ reminders: number; overdue: number }> {
      authorize(actor, 'loan.manage');
      return service.sendReminders();
    },

    /** Whether the applicant has an overdue obligation now. */
    overdueFor: (applicantId: string, executor: Executor = db) => repo.hasOverdue(executor, applicantId, clock()),
  };

  if (options.blockOverdue) {
    applications.useApplyGate(async (applicantId, { executor }) => {
      const late = await repo.hasOverdue(executor, applicantId, clock());
      if (!late) return { allowed: true };
      return {
        allowed: false,
        code: 'obligations-overdue',
        message: 'You have an overdue obligation on a loan (a result report, or the return or consumption report of material); complete it before applying again',
        extensions: { loanId: late.loanId, applicationId: late.applicationId },
      };
    });
  }
  notifications.addPeriodicTask('loan-reminders', () => service.sendReminders());
  return service;
}
