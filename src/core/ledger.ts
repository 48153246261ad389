/**
 * Pure rules of the sample ledger: identifiers in the curation convention,
 * which states hold material on the shelf, and the conservation law checked
 * over a lineage's movements. No I/O.
 */
export const sampleStates = ['available', 'reserved', 'on_loan', 'in_transit', 'returned', 'consumed', 'destroyed', 'quarantined'] as const;
export type SampleState = (typeof sampleStates)[number];

/** States in which material sits on the shelf and can be reserved, split or consumed. */
export const shelfStates = ['available', 'reserved'] as const satisfies readonly SampleState[];
/** States a split may start from: the shelf, and material back from a loan. */
export const splittableStates = ['available', 'reserved', 'returned', 'on_loan'] as const satisfies readonly SampleState[];
export const finalStates = ['consumed', 'destroyed'] as const satisfies readonly SampleState[];

/** The part of a root identifier before the comma: `CE5C0400,0012` → `CE5C0400`. */
export function genericIdentifier(rootIdentifier: string): string {
  const comma = rootIdentifier.indexOf(',');
  return comma === -1 ? rootIdentifier : rootIdentifier.slice(0, comma);
}

/** The identifier of split number n under a root: `CE5C0400,0012`. */
export function splitIdentifier(rootIdentifier: string, n: number): string {
  return `${genericIdentifier(rootIdentifier)},${String(n).padStart(4, '0')}`;
}

/** A generated root identifier: the collection code and a 4-digit number. */
export function rootIdentifier(collectionCode: string, n: number): string {
  return `${collectionCode}${String(n).padStart(4, '0')}`;
}

/** The state after a change of reservation on a shelf sample; other states are kept as they are. */
export function shelfState(current: SampleState, reserved: bigint): SampleState {
  if (!(shelfStates as readonly string[]).includes(current)) return current;
  return reserved > 0n ? 'reserved' : 'available';
}

export interface LedgerEntry {
  sampleId: string;
  kind: string;
  delta: bigint;
  reservedDelta: bigint;
}

export interface LedgerSample {
  id: string;
  quantity: bigint;
  reserved: bigint;
  /** Sum of the sample's active reservations. */
  activeReservations: bigint;
}

export interface ConservationViolation {
  rootId: string;
  sampleId: string | null;
  rule: 'lineage' | 'sample-quantity' | 'sample-reserved' | 'reservations' | 'negative';
  message: string;
}

const outflows = new Set(['consume', 'loss', 'destroy']);
const inflows = new Set(['create', 'adjust']);

/**
 * Conservation over one lineage: what was created (and adjusted) equals what
 * the samples hold now plus what was consumed, lost or destroyed; each
 * sample's movements add up to its quantity and reservation.
 */
export function checkLineage(rootId: string, samples: readonly LedgerSample[], entries: readonly LedgerEntry[]): ConservationViolation[] {
  const violations: ConservationViolation[] = [];
  let created = 0n;
  let gone = 0n;
  const perSample = new Map<string, { delta: bigint; reserved: bigint }>();
  for (const entry of entries) {
    if (inflows.has(entry.kind)) created += entry.delta;
    if (outflows.has(entry.kind)) gone -= entry.delta;
    const sum = perSample.get(entry.sampleId) ?? { delta: 0n, reserved: 0n };
    sum.delta += entry.delta;
    sum.reserved += entry.reservedDelta;
    perSample.set(entry.sampleId, sum);
  }
  const held = samples.reduce((total, s) => total + s.quantity, 0n);
  if (created !== held + gone) {
    violations.push({ rootId, sampleId: null, rule: 'lineage', message: `created and adjusted ${created} ≠ held ${held} + consumed, lost or destroyed ${gone}` });
  }
  for (const sample of samples) {
    const sum = perSample.get(sample.id) ?? { delta: 0n, reserved: 0n };
    if (sample.quantity < 0n || sample.reserved < 0n || sample.reserved > sample.quantity) {
      violations.push({ rootId, sampleId: sample.id, rule: 'negative', message: `quantity ${sample.quantity}, reserved ${sample.reserved}` });
    }
    if (sum.delta !== sample.quantity) {
      violations.push({ rootId, sampleId: sample.id, rule: 'sample-quantity', message: `movements add up to ${sum.delta}, the sample holds ${sample.quantity}` });
    }
    if (sum.reserved !== sample.reserved) {
      violations.push({ rootId, sampleId: sample.id, rule: 'sample-reserved', message: `reserve movements add up to ${sum.reserved}, the sample has ${sample.reserved} reserved` });
    }
    if (sample.activeReservations !== sample.reserved) {
      violations.push({ rootId, sampleId: sample.id, rule: 'reservations', message: `active reservations add up to ${sample.activeReservations}, the sample has ${sample.reserved} reserved` });
    }
  }
  return violations;
}
