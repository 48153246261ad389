/**
 * The allocation problem: which requested items get how much, cut from which
 * pool samples. Quantities are bigint smallest units; only the solver's linear
 * model ever sees them as numbers (see formulation.ts).
 */
import type { ExclusionReason } from '../consent.js';
import { DomainError, type FieldError } from '../errors.js';

export interface PoolSample {
  id: string;
  kind: string;
  /** What people call it (explanations name samples by it); defaults to the id. */
  identifier?: string;
  /** Quantity not reserved by anything else. */
  available: bigint;
  /** What this call may take from the sample (defaults to `available`). */
  releasable?: bigint;
}

export interface KindOffer {
  kind: string;
  /** What the call releases of this kind after its permanent reserve. */
  releasable: bigint;
}

export interface AllocationRequest {
  applicationId: string;
  itemId: string;
  institutionId: string;
  kind: string;
  /** Requested quantity. */
  quantity: bigint;
  /** Minimum useful quantity: below it the item gets nothing. */
  minimum: bigint;
  /** Normalised review score; higher is better. */
  score: number;
  /** 1 is best. Greedy order and explanations use it. */
  rank: number;
  /**
   * Samples this request may not draw on, and why (the donor's consent does
   * not cover the application's uses, or was withdrawn). Decided outside the
   * solver (see core/consent.ts); every step of the allocation honours it.
   */
  exclusions?: readonly SampleExclusion[];
}

/** Why a sample is kept from one application: the consent rule's reason and, for a scope, the uses it does not cover. */
export interface SampleExclusion {
  sampleId: string;
  reason: ExclusionReason;
  /** The uses the consent does not cover (for use-not-consented). */
  uses?: readonly string[];
}

export interface AllocationInput {
  samples: PoolSample[];
  /** Per-kind release limits; a kind not listed may use all its samples' releasable quantity. */
  kinds?: KindOffer[];
  requests: AllocationRequest[];
  /** For explanations: the collection's scale and unit. */
  scale?: number;
  unit?: string;
}

export interface InstitutionCap {
  /** The most one institution receives of any one kind. */
  perKind?: bigint;
  /** The most one institution receives over all kinds (one collection, one unit). */
  total?: bigint;
}

export interface AllocationRules {
  /** Smallest subsample the lab can cut; every piece is at least this. */
  minCut: bigint;
  /** Most pieces (source samples) per item; default 2. */
  maxPieces?: number;
  institutionCap?: InstitutionCap;
}

export interface Piece {
  sampleId: string;
  quantity: bigint;
}

export interface ItemProposal {
  applicationId: string;
  itemId: string;
  allocated: bigint;
  pieces: Piece[];
}

export interface Proposal {
  items: ItemProposal[];
}

export const DEFAULT_MAX_PIECES = 2;
/** Above this the linear model would lose exactness in doubles. */
export const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

export const itemKey = (r: { applicationId: string; itemId: string }): string => `${r.applicationId}\u0000${r.itemId}`;

export function maxPieces(rules: AllocationRules): number {
  return rules.maxPieces ?? DEFAULT_MAX_PIECES;
}

const excludedCache = new WeakMap<AllocationRequest, ReadonlySet<string>>();

/** The ids of the samples a request may not draw on. */
export function excludedSamples(request: AllocationRequest): ReadonlySet<string> {
  if (!request.exclusions || request.exclusions.length === 0) return EMPTY;
  let set = excludedCache.get(request);
  if (!set) {
    set = new Set(request.exclusions.map((e) => e.sampleId));
    excludedCache.set(request, set);
  }
  return set;
}
const EMPTY: ReadonlySet<string> = new Set();

/** Whether a request may draw on a sample: of its kind, and not excluded for it. */
export function mayDraw(request: AllocationRequest, sample: { id: string; kind: string }): boolean {
  return sample.kind === request.kind && !excludedSamples(request).has(sample.id);
}

/** What one sample can give this call. */
export function sampleCapacity(sample: PoolSample): bigint {
  const releasable = sample.releasable ?? sample.available;
  return releasable < sample.available ? releasable : sample.available;
}

/** Release limit per kind: the declared limit, else the samples' total. */
export function kindLimits(input: AllocationInput): Map<string, bigint> {
  const declared = new Map((input.kinds ?? []).map((k) => [k.kind, k.releasable]));
  const limits = new Map<string, bigint>();
  for (const kind of new Set([...input.samples.map((s) => s.kind), ...input.requests.map((r) => r.kind), ...declared.keys()])) {
    const samples = input.samples.filter((s) => s.kind === kind).reduce((sum, s) => sum + sampleCapacity(s), 0n);
    const limit = declared.get(kind);
    limits.set(kind, limit === undefined || limit > samples ? samples : limit);
  }
  return limits;
}

/**
 * Weight of an item in the objective: its score mapped onto [1, 2] across the
 * call (all equal scores weigh 1). Positive weights for every approved item,
 * the best one at most twice the last: material goes to the best-ranked
 * first, but a weaker request still counts when it uses what would be left.
 */
export function itemWeights(requests: readonly AllocationRequest[]): number[] {
  if (requests.length === 0) return [];
  const scores = requests.map((r) => r.score);
  const low = Math.min(...scores);
  const high = Math.max(...scores);
  return scores.map((s) => (high - low > 1e-12 ? 1 + (s - low) / (high - low) : 1));
}

/**
 * The objective: Σ weight · allocated / releasable-of-its-kind, i.e. the
 * score-weighted share of each kind's offer handed out. Dividing by the kind's
 * offer keeps grams of one kind from outweighing milligrams of another.
 */
export function objectiveCoefficients(input: AllocationInput): number[] {
  const weights = itemWeights(input.requests);
  const limits = kindLimits(input);
  return input.requests.map((r, i) => weights[i]! / Number(maxBig(limits.get(r.kind) ?? 0n, 1n)));
}

export function objectiveValue(input: AllocationInput, proposal: Proposal): number {
  const coefficients = objectiveCoefficients(input);
  const allocated = new Map(proposal.items.map((p) => [itemKey(p), p.allocated]));
  return input.requests.reduce((sum, r, i) => sum + coefficients[i]! * Number(allocated.get(itemKey(r)) ?? 0n), 0);
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export function minBig(...values: bigint[]): bigint {
  return values.reduce((a, b) => (b < a ? b : a));
}

/** Rejects input the model cannot express; a caller's mistake, so a 4xx. */
export function validateInput(input: AllocationInput, rules: AllocationRules): void {
  const errors: FieldError[] = [];
  const bad = (field: string, message: string) => errors.push({ field, message });
  if (rules.minCut < 1n) bad('minCut', 'must be at least one smallest unit');
  const pieces = maxPieces(rules);
  if (!Number.isInteger(pieces) || pieces < 1 || pieces > 8) bad('maxPieces', 'must be an integer from 1 to 8');
  for (const [name, cap] of Object.entries(rules.institutionCap ?? {})) {
    if (cap !== undefined && cap < 0n) bad(`institutionCap.${name}`, 'must not be negative');
  }
  const sampleIds = new Set<string>();
  input.samples.forEach((s, i) => {
    if (sampleIds.has(s.id)) bad(`samples[${i}].id`, 'appears twice');
    sampleIds.add(s.id);
    if (s.available < 0n) bad(`samples[${i}].available`, 'must not be negative');
    if (s.releasable !== undefined && s.releasable < 0n) bad(`samples[${i}].releasable`, 'must not be negative');
    if (s.available > MAX_EXACT) bad(`samples[${i}].available`, 'is too large');
  });
  (input.kinds ?? []).forEach((k, i) => {
    if (k.releasable < 0n) bad(`kinds[${i}].releasable`, 'must not be negative');
  });
  const keys = new Set<string>();
  input.requests.forEach((r, i) => {
    if (keys.has(itemKey(r))) bad(`requests[${i}].itemId`, 'appears twice in the application');
    keys.add(itemKey(r));
    if (r.quantity < 1n || r.quantity > MAX_EXACT) bad(`requests[${i}].quantity`, 'must be positive and not too large');
    if (r.minimum < 1n || r.minimum > r.quantity) bad(`requests[${i}].minimum`, 'must be positive and at most the requested quantity');
    if (!Number.isFinite(r.score)) bad(`requests[${i}].score`, 'must be a finite number');
    if (!Number.isInteger(r.rank) || r.rank < 1) bad(`requests[${i}].rank`, 'must be a positive integer');
    (r.exclusions ?? []).forEach((e, j) => {
      if (!sampleIds.has(e.sampleId)) bad(`requests[${i}].exclusions[${j}].sampleId`, 'is not a sample of the pool');
    });
  });
  if (errors.length) throw new DomainError('validation-failed', 'The allocation problem is not well formed', { errors });
}

/** Best rank first; ties by score, then by id so every run orders alike. */
export function rankOrder(requests: readonly AllocationRequest[]): number[] {
  return requests
    .map((_, i) => i)
    .sort((a, b) => {
      const x = requests[a]!;
      const y = requests[b]!;
      return x.rank - y.rank || y.score - x.score || compare(x.applicationId, y.applicationId) || compare(x.itemId, y.itemId);
    });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
