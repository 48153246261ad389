/**
 * Pure rules of distribution and loans: the shipment state machine, what
 * counts as a discrepancy on receipt, when a loan's obligations are overdue,
 * and what still stands between a loan and its closing. No I/O.
 */
import type { FieldError } from './errors.js';

export const shipmentStates = ['prepared', 'packed', 'dispatched', 'received', 'cancelled'] as const;
export type ShipmentState = (typeof shipmentStates)[number];

export const shipmentTransitions: Record<ShipmentState, readonly ShipmentState[]> = {
  prepared: ['packed', 'cancelled'],
  packed: ['dispatched', 'cancelled'],
  dispatched: ['received'],
  received: [],
  cancelled: [],
};

export const itemConditions = ['intact', 'damaged', 'missing'] as const;
export type ItemCondition = (typeof itemConditions)[number];

export interface Discrepancy {
  kind: 'quantity' | 'condition' | 'missing';
  description: string;
}

/**
 * What the recipient found against what was shipped. Missing material, a
 * different quantity or damage each open an incident; an intact item with the
 * shipped quantity does not.
 */
export function discrepancy(expected: bigint, found: bigint, condition: ItemCondition, format: (units: bigint) => string): Discrepancy | null {
  if (condition === 'missing' || found === 0n) {
    return { kind: 'missing', description: `Shipped ${format(expected)}, the recipient reports the sample missing` };
  }
  if (found !== expected) {
    const damage = condition === 'damaged' ? ', damaged' : '';
    return { kind: 'quantity', description: `Shipped ${format(expected)}, found ${format(found)} (${found < expected ? 'short' : 'over'} by ${format(found < expected ? expected - found : found - expected)}${damage})` };
  }
  if (condition === 'damaged') return { kind: 'condition', description: `Quantity as shipped (${format(expected)}), but the package or container arrived damaged` };
  return null;
}

export interface LoanFacts {
  state: 'open' | 'closed';
  dueAt: Date;
  reportDueAt: Date;
  reports: number;
  /** Quantity still held by the recipient, over every loaned sample. */
  outstanding: bigint;
  openIncidents: number;
  /** Shipments for the application not yet received. */
  shipmentsInTransit: number;
  /** Returns the recipient sent back that the curator has not yet received into custody. */
  returnsInTransit: number;
}

export interface Overdue {
  report: boolean;
  material: boolean;
}

/** Which obligations are past their date and not yet met. */
export function overdue(loan: Pick<LoanFacts, 'state' | 'dueAt' | 'reportDueAt' | 'reports' | 'outstanding'>, now: Date): Overdue {
  if (loan.state !== 'open') return { report: false, material: false };
  return {
    report: loan.reports === 0 && now.getTime() > loan.reportDueAt.getTime(),
    material: loan.outstanding > 0n && now.getTime() > loan.dueAt.getTime(),
  };
}

export function isOverdue(loan: Parameters<typeof overdue>[0], now: Date): boolean {
  const o = overdue(loan, now);
  return o.report || o.material;
}

/** What still prevents the loan from closing; empty when it may close. */
export function closeBlockers(loan: LoanFacts, format: (units: bigint) => string): FieldError[] {
  const blockers: FieldError[] = [];
  if (loan.state !== 'open') blockers.push({ field: 'state', message: 'is already closed' });
  if (loan.shipmentsInTransit > 0) blockers.push({ field: 'shipments', message: `${loan.shipmentsInTransit} shipment(s) not yet received` });
  if (loan.returnsInTransit > 0) blockers.push({ field: 'returns', message: `${loan.returnsInTransit} return(s) not yet received back into custody` });
  if (loan.outstanding > 0n) blockers.push({ field: 'outstanding', message: `${format(loan.outstanding)} is neither returned nor reported consumed` });
  if (loan.reports === 0) blockers.push({ field: 'reports', message: 'no result report has been filed' });
  if (loan.openIncidents > 0) blockers.push({ field: 'incidents', message: `${loan.openIncidents} incident(s) await the curator` });
  return blockers;
}

/** Reminders go out this long before a due date, once per date. */
export const REMINDER_DAYS = 14;

export function dueSoon(dueAt: Date, now: Date, days = REMINDER_DAYS): boolean {
  const left = dueAt.getTime() - now.getTime();
  return left <= days * 86_400_000;
}

const DOI = /^10\.[0-9]{4,9}\/\S{1,200}$/;

/** A DOI as registrants write it: strips a resolver prefix (https://doi.org/, doi:) and checks the shape. */
export function normaliseDoi(text: string): string | null {
  const trimmed = text.trim().replace(/^(?:https?:\/\/(?:dx\.)?doi\.org\/|doi:\s*)/i, '');
  return DOI.test(trimmed) ? trimmed : null;
}

/** Loan defaults: material due back a year after receipt, the result report in six months. */
export const DEFAULT_LOAN_DAYS = 365;
export const DEFAULT_REPORT_DAYS = 180;

export function addDays(from: Date, days: number): Date {
  return new Date(from.getTime() + days * 86_400_000);
}
