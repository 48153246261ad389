/** How calls and pools look on the wire. */
import { formatQuantity } from '../../core/quantity.js';
import type { CallRow, CriterionRow } from './calls.repository.js';
import type { Pool } from './calls.service.js';

export interface CallView {
  id: string;
  collectionId: string;
  title: string;
  description: string | null;
  state: CallRow['state'];
  opensAt: string;
  closesAt: string;
  reviewDeadline: string | null;
  reserveFraction: string;
  blind: boolean;
  reviewersPerApplication: number;
  researchDirections: string[];
  rubric: { scaleMin: number; scaleMax: number; criteria: Array<{ key: string; name: string; description: string | null; weight: number }> };
  eligibleInstitutionIds: string[];
  panel?: string[] | undefined;
  unit: string;
  scale: number;
  humanConsent: boolean;
  chairId: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toCall(
  row: CallRow,
  extra: { criteria: CriterionRow[]; eligible: string[]; panel: string[] | undefined; unit: string; collectionScale: number; humanConsent: boolean },
): CallView {
  return {
    id: row.id,
    collectionId: row.collection_id,
    title: row.title,
    description: row.description,
    state: row.state,
    opensAt: row.opens_at.toISOString(),
    closesAt: row.closes_at.toISOString(),
    reviewDeadline: row.review_deadline?.toISOString() ?? null,
    reserveFraction: formatQuantity(BigInt(row.reserve_bp), 4),
    blind: row.blind,
    reviewersPerApplication: row.reviewers_per_application,
    researchDirections: row.research_directions,
    rubric: { scaleMin: row.score_min, scaleMax: row.score_max, criteria: extra.criteria },
    eligibleInstitutionIds: extra.eligible,
    ...(extra.panel ? { panel: extra.panel } : {}),
    unit: extra.unit,
    scale: extra.collectionScale,
    humanConsent: extra.humanConsent,
    chairId: row.chair_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export interface PoolView {
  callId: string;
  unit: string;
  reserveFraction: string;
  kinds: Array<{ kind: string; total: string; releasable: string; reserve: string; samples?: Array<{ id: string; identifier: string; quantity: string }> | undefined }>;
}

export function toPool(pool: Pool, withSamples: boolean): PoolView {
  const q = (units: bigint): string => formatQuantity(units, pool.scale);
  return {
    callId: pool.callId,
    unit: pool.unit,
    reserveFraction: formatQuantity(BigInt(pool.reserveBp), 4),
    kinds: pool.kinds.map((k) => ({
      kind: k.kind,
      total: q(k.total),
      releasable: q(k.releasable),
      reserve: q(k.total - k.releasable),
      ...(withSamples ? { samples: k.samples.map((s) => ({ id: s.sampleId, identifier: s.identifier, quantity: q(s.quantity) })) } : {}),
    })),
  };
}
