/** The allocation as the API shows it: quantities as decimal strings, outcomes grouped by application. */
import type { ItemExclusion } from '../../core/allocation/explain.js';
import type { Violation } from '../../core/allocation/verify.js';
import { formatQuantity } from '../../core/quantity.js';
import type { AllocationItemRow, AllocationLineRow, AllocationRow } from './allocation.repository.js';

export interface Checked {
  ok: boolean;
  checkedAgainst: 'inventory-now' | 'inventory-at-execution';
  violations: Violation[];
}

/** A sample consent kept from an item, as the API shows it. */
export function toExclusion(e: ItemExclusion) {
  return { code: e.code, sampleId: e.sampleId, sampleIdentifier: e.identifier, reason: e.reason, uses: e.uses, message: e.message };
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function toSummary(row: AllocationRow) {
  const bound = row.bound;
  return {
    id: row.id,
    callId: row.call_id,
    state: row.state,
    solver: row.solver,
    solverStatus: row.solver_status,
    fallbackReason: row.fallback_reason,
    edited: row.edited,
    objective: row.objective,
    greedyObjective: row.greedy_objective,
    bound,
    gap: bound !== null && bound > 0 ? Math.max(0, (bound - row.objective) / bound) : null,
    elapsedMs: row.elapsed_ms,
    note: row.note,
    createdBy: row.created_by,
    createdAt: iso(row.created_at)!,
    approvedBy: row.approved_by,
    approvedAt: iso(row.approved_at),
    executedBy: row.executed_by,
    executedAt: iso(row.executed_at),
  };
}

export function toAllocation(row: AllocationRow, items: AllocationItemRow[], lines: AllocationLineRow[], unit: { scale: number; unit: string }, verification: Checked | null) {
  const q = (value: string | bigint) => formatQuantity(BigInt(value), unit.scale);
  const byApplication = new Map<string, AllocationItemRow[]>();
  for (const item of items) byApplication.set(item.application_id, [...(byApplication.get(item.application_id) ?? []), item]);
  const allocatedByKind = new Map<string, bigint>();
  for (const line of lines) allocatedByKind.set(line.kind, (allocatedByKind.get(line.kind) ?? 0n) + BigInt(line.quantity));
  const total = [...allocatedByKind.values()].reduce((s, v) => s + v, 0n);
  return {
    ...toSummary(row),
    unit: unit.unit,
    rules: {
      minCut: q(row.min_cut),
      maxPieces: row.max_pieces,
      institutionCap: { perKind: row.cap_per_kind === null ? null : q(row.cap_per_kind), total: row.cap_total === null ? null : q(row.cap_total) },
    },
    totals: {
      allocated: q(total),
      byKind: row.offer.map((k) => ({ kind: k.kind, releasable: q(k.releasable), allocated: q(allocatedByKind.get(k.kind) ?? 0n) })),
    },
    applications: [...byApplication].map(([applicationId, own]) => {
      const outcome = own.every((i) => i.outcome === 'full') ? 'full' : own.some((i) => BigInt(i.allocated) > 0n) ? 'partial' : 'none';
      return {
        applicationId,
        institutionId: own[0]!.institution_id,
        rank: Math.min(...own.map((i) => i.rank)),
        outcome: outcome as 'full' | 'partial' | 'none',
        explanation: own.map((i) => `${i.kind}: ${i.explanation}`).join('; '),
        items: own.map((i) => ({
          kind: i.kind,
          requested: q(i.requested),
          minimum: q(i.minimum),
          allocated: q(i.allocated),
          score: i.score,
          outcome: i.outcome,
          reason: i.reason,
          params: i.params,
          explanation: i.explanation,
          exclusions: (i.exclusions ?? []).map(toExclusion),
          pieces: lines
            .filter((l) => l.application_id === i.application_id && l.kind === i.kind)
            .map((l) => ({ sampleId: l.sample_id, sampleIdentifier: l.sample_identifier, quantity: q(l.quantity), childSampleId: l.child_sample_id, childIdentifier: l.child_identifier, reservationId: l.reservation_id })),
        })),
      };
    }),
    verification,
  };
}

export type AllocationView = ReturnType<typeof toAllocation>;
