/**
 * Checks a proposal against every rule, whoever produced it. The solver's
 * answers, the chair's edits and the execution (against the inventory as it is
 * then) all pass through here.
 */
import { exclusionMessage, type ExclusionReason } from '../consent.js';
import { formatQuantity } from '../quantity.js';
import { itemKey, kindLimits, maxPieces, sampleCapacity, type AllocationInput, type AllocationRules, type Proposal } from './model.js';

export type ViolationCode =
  | 'not-requested'
  | 'duplicate-item'
  | 'missing-item'
  | 'inexact'
  | 'pieces-sum'
  | 'below-minimum'
  | 'above-request'
  | 'too-many-pieces'
  | 'duplicate-piece'
  | 'unknown-sample'
  | 'wrong-kind'
  | 'consent-excluded'
  | 'below-min-cut'
  | 'sample-exceeded'
  | 'kind-exceeded'
  | 'institution-kind-cap'
  | 'institution-cap';

/** One broken rule: a stable code, what it concerns, and an English message. */
export interface Violation {
  code: ViolationCode;
  message: string;
  applicationId?: string;
  itemId?: string;
  sampleId?: string;
  kind?: string;
  institutionId?: string;
  /** For consent-excluded: why the sample is kept from the application, and the uses its consent does not cover. */
  reason?: ExclusionReason;
  uses?: string[];
}

export interface Verification {
  ok: boolean;
  /** The messages alone. */
  violations: string[];
  details: Violation[];
}

export function verifyAllocation(input: AllocationInput, rules: AllocationRules, proposal: Proposal): Verification {
  const details: Violation[] = [];
  const fmt = (q: bigint) => `${formatQuantity(q, input.scale ?? 0)}${input.unit ? ` ${input.unit}` : ''}`;
  const push = (v: Violation) => details.push(v);
  const samples = new Map(input.samples.map((s) => [s.id, s]));
  const requests = new Map(input.requests.map((r) => [itemKey(r), r]));
  const bySample = new Map<string, bigint>();
  const byKind = new Map<string, bigint>();
  const byInstitutionKind = new Map<string, { institutionId: string; kind: string; used: bigint }>();
  const byInstitution = new Map<string, bigint>();
  const add = (map: Map<string, bigint>, key: string, q: bigint) => map.set(key, (map.get(key) ?? 0n) + q);
  const seen = new Set<string>();

  for (const item of proposal.items) {
    const key = itemKey(item);
    const request = requests.get(key);
    const label = `item ${item.applicationId}/${item.itemId}`;
    const at = { applicationId: item.applicationId, itemId: item.itemId };
    if (!request) {
      push({ code: 'not-requested', message: `${label} was not requested`, ...at });
      continue;
    }
    if (seen.has(key)) push({ code: 'duplicate-item', message: `${label} appears twice`, ...at });
    seen.add(key);
    if (typeof item.allocated !== 'bigint' || item.pieces.some((p) => typeof p.quantity !== 'bigint')) {
      push({ code: 'inexact', message: `${label}: quantity is not an exact integer`, ...at });
      continue;
    }
    const sum = item.pieces.reduce((s, p) => s + p.quantity, 0n);
    if (sum !== item.allocated) push({ code: 'pieces-sum', message: `${label}: pieces add up to ${fmt(sum)}, not ${fmt(item.allocated)}`, ...at });
    if (item.allocated !== 0n && item.allocated < request.minimum) {
      push({ code: 'below-minimum', message: `${label}: ${fmt(item.allocated)} is outside 0 or [${fmt(request.minimum)}, ${fmt(request.quantity)}] (below the minimum useful quantity)`, ...at });
    }
    if (item.allocated > request.quantity) {
      push({ code: 'above-request', message: `${label}: ${fmt(item.allocated)} is outside 0 or [${fmt(request.minimum)}, ${fmt(request.quantity)}] (more than requested)`, ...at });
    }
    if (item.pieces.length > maxPieces(rules)) push({ code: 'too-many-pieces', message: `${label}: ${item.pieces.length} pieces, at most ${maxPieces(rules)}`, ...at });
    const sources = new Set<string>();
    for (const piece of item.pieces) {
      const sample = samples.get(piece.sampleId);
      const on = { ...at, sampleId: piece.sampleId };
      if (sources.has(piece.sampleId)) push({ code: 'duplicate-piece', message: `${label}: two pieces from sample ${piece.sampleId}`, ...on });
      sources.add(piece.sampleId);
      if (!sample) push({ code: 'unknown-sample', message: `${label}: unknown sample ${piece.sampleId} (not in the pool, or no longer on the shelf)`, ...on });
      else if (sample.kind !== request.kind) push({ code: 'wrong-kind', message: `${label}: sample ${piece.sampleId} is ${sample.kind}, not ${request.kind}`, ...on });
      const exclusion = request.exclusions?.find((e) => e.sampleId === piece.sampleId);
      if (exclusion) {
        push({ code: 'consent-excluded', message: `${label}: sample ${piece.sampleId} may not go to this application: ${exclusionMessage(exclusion.reason, exclusion.uses)}`, ...on, reason: exclusion.reason, ...(exclusion.uses ? { uses: [...exclusion.uses] } : {}) });
      }
      if (piece.quantity < rules.minCut) push({ code: 'below-min-cut', message: `${label}: piece of ${fmt(piece.quantity)} from ${piece.sampleId} is below the smallest cut ${fmt(rules.minCut)}`, ...on });
      add(bySample, piece.sampleId, piece.quantity);
    }
    add(byKind, request.kind, item.allocated);
    const ik = `${request.institutionId}\u0000${request.kind}`;
    const entry = byInstitutionKind.get(ik) ?? { institutionId: request.institutionId, kind: request.kind, used: 0n };
    entry.used += item.allocated;
    byInstitutionKind.set(ik, entry);
    add(byInstitution, request.institutionId, item.allocated);
  }
  for (const [key, request] of requests) {
    if (!seen.has(key)) push({ code: 'missing-item', message: `item ${request.applicationId}/${request.itemId} has no answer`, applicationId: request.applicationId, itemId: request.itemId });
  }
  for (const [id, used] of bySample) {
    const sample = samples.get(id);
    if (sample && used > sampleCapacity(sample)) push({ code: 'sample-exceeded', message: `sample ${id}: ${fmt(used)} taken, ${fmt(sampleCapacity(sample))} releasable`, sampleId: id });
  }
  const limits = kindLimits(input);
  for (const [kind, used] of byKind) {
    const limit = limits.get(kind) ?? 0n;
    if (used > limit) push({ code: 'kind-exceeded', message: `kind ${kind}: ${fmt(used)} allocated, ${fmt(limit)} releasable`, kind });
  }
  const cap = rules.institutionCap ?? {};
  if (cap.perKind !== undefined) {
    for (const { institutionId, kind, used } of byInstitutionKind.values()) {
      if (used > cap.perKind) push({ code: 'institution-kind-cap', message: `institution ${institutionId}: ${fmt(used)} of ${kind}, over the cap ${fmt(cap.perKind)} per kind`, institutionId, kind });
    }
  }
  if (cap.total !== undefined) {
    for (const [institutionId, used] of byInstitution) {
      if (used > cap.total) push({ code: 'institution-cap', message: `institution ${institutionId}: ${fmt(used)} in all, over the cap ${fmt(cap.total)}`, institutionId });
    }
  }
  return { ok: details.length === 0, violations: details.map((d) => d.message), details };
}
