/**
 * Plain-language reasons for each outcome, from the final proposal and the
 * rules: what ran out, which cap bound, or why nothing could be cut.
 */
import { exclusionMessage, type ExclusionReason } from '../consent.js';
import { formatQuantity } from '../quantity.js';
import { largestCuttable, type Stock } from './cutting.js';
import { excludedSamples, itemKey, kindLimits, maxBig, maxPieces, minBig, rankOrder, sampleCapacity, type AllocationInput, type AllocationRequest, type AllocationRules, type ItemProposal, type Proposal } from './model.js';

export type Outcome = 'full' | 'partial' | 'none';
export type Reason = 'full' | 'not-offered' | 'kind-exhausted' | 'institution-cap' | 'consent-scope-excluded' | 'cutting' | 'outweighed';

/** A sample of the item's kind, with something to give, that the application may not receive. */
export interface ItemExclusion {
  /** Stable code of the exclusion, whatever its consent reason. */
  code: 'consent-scope-excluded';
  sampleId: string;
  /** The sample's identifier (its id when the input gave none). */
  identifier: string;
  reason: ExclusionReason;
  /** The uses the donor's consent does not cover (for use-not-consented). */
  uses: string[];
  /** In English. */
  message: string;
}

/** At most this many identifiers are named in an explanation sentence; `exclusions` lists them all. */
const NAMED = 5;

export interface ItemOutcome extends ItemProposal {
  institutionId: string;
  kind: string;
  requested: bigint;
  minimum: bigint;
  rank: number;
  outcome: Outcome;
  /** Stable machine code of the reason; with `params` the web app words it in its own language. */
  reason: Reason;
  params: ExplanationParams;
  /** The same in English. */
  explanation: string;
  /** The samples of this kind the application's consent check excluded (empty when none). */
  exclusions: ItemExclusion[];
}

/** Quantities as decimal strings in the collection's unit; ranks and percentages as numbers. */
export type ExplanationParams = Record<string, string | number>;

export interface ApplicationOutcome {
  applicationId: string;
  rank: number;
  outcome: Outcome;
  items: ItemOutcome[];
  explanation: string;
}

const NO_CAP = -1n;

export function explainAllocation(input: AllocationInput, rules: AllocationRules, proposal: Proposal): { items: ItemOutcome[]; applications: ApplicationOutcome[] } {
  const state = finalState(input, proposal);
  const num = (q: bigint) => formatQuantity(q, input.scale ?? 0);
  const fmt = (q: bigint) => `${num(q)}${input.unit ? ` ${input.unit}` : ''}`;
  const byKey = new Map(proposal.items.map((p) => [itemKey(p), p]));
  const samples = new Map(input.samples.map((s) => [s.id, s]));
  const items = input.requests.map((request): ItemOutcome => {
    const own = byKey.get(itemKey(request)) ?? { applicationId: request.applicationId, itemId: request.itemId, allocated: 0n, pieces: [] };
    // The exclusions that cost this item something: samples of its kind that had material to give.
    const exclusions = (request.exclusions ?? []).flatMap((e): ItemExclusion[] => {
      const sample = samples.get(e.sampleId);
      if (!sample || sample.kind !== request.kind || sampleCapacity(sample) === 0n) return [];
      const uses = [...(e.uses ?? [])];
      return [{ code: 'consent-scope-excluded', sampleId: e.sampleId, identifier: sample.identifier ?? sample.id, reason: e.reason, uses, message: exclusionMessage(e.reason, uses) }];
    });
    const consent = describeExclusions(exclusions);
    const found = why(request, own, state, rules, fmt, num, consent);
    const { reason, params } = found;
    // Whatever else limited the item, the exclusions are said (once).
    const because = consent && reason !== 'consent-scope-excluded' ? [found.because, consent.sentence].filter(Boolean).join('; ') : found.because;
    const outcome: Outcome = own.allocated === request.quantity ? 'full' : own.allocated > 0n ? 'partial' : 'none';
    const percent = (own.allocated * 100n) / request.quantity;
    const head =
      outcome === 'full' ? `received the full request (${fmt(request.quantity)})`
      : outcome === 'partial' ? `received ${percent}% of the request (${fmt(own.allocated)} of ${fmt(request.quantity)})`
      : 'nothing';
    return {
      ...own,
      institutionId: request.institutionId,
      kind: request.kind,
      requested: request.quantity,
      minimum: request.minimum,
      rank: request.rank,
      outcome,
      reason,
      params: { kind: request.kind, rank: request.rank, percent: Number(percent), allocated: num(own.allocated), requested: num(request.quantity), minimum: num(request.minimum), ...(input.unit ? { unit: input.unit } : {}), ...(consent?.params ?? {}), ...params },
      explanation: because ? `${head}: ${because}` : head,
      exclusions,
    };
  });
  const applications = new Map<string, ItemOutcome[]>();
  for (const index of rankOrder(input.requests)) {
    const item = items[index]!;
    applications.set(item.applicationId, [...(applications.get(item.applicationId) ?? []), item]);
  }
  return {
    items,
    applications: [...applications].map(([applicationId, own]) => {
      const outcome: Outcome = own.every((i) => i.outcome === 'full') ? 'full' : own.some((i) => i.allocated > 0n) ? 'partial' : 'none';
      return { applicationId, rank: Math.min(...own.map((i) => i.rank)), outcome, items: own, explanation: own.map((i) => `${i.kind}: ${i.explanation}`).join('; ') };
    }),
  };
}

interface FinalState {
  kindLeft: Map<string, bigint>;
  kindOffered: Map<string, bigint>;
  /** Worst rank that still received some of each kind. */
  lastRank: Map<string, number>;
  perKind: Map<string, bigint>;
  total: Map<string, bigint>;
  stock: Map<string, Stock[]>;
}

function finalState(input: AllocationInput, proposal: Proposal): FinalState {
  const offered = kindLimits(input);
  const kindLeft = new Map(offered);
  const lastRank = new Map<string, number>();
  const perKind = new Map<string, bigint>();
  const total = new Map<string, bigint>();
  const left = new Map(input.samples.map((s) => [s.id, sampleCapacity(s)]));
  const requests = new Map(input.requests.map((r) => [itemKey(r), r]));
  for (const item of proposal.items) {
    const request = requests.get(itemKey(item));
    if (!request || item.allocated === 0n) continue;
    kindLeft.set(request.kind, (kindLeft.get(request.kind) ?? 0n) - item.allocated);
    lastRank.set(request.kind, Math.max(lastRank.get(request.kind) ?? 0, request.rank));
    perKind.set(`${request.institutionId} ${request.kind}`, (perKind.get(`${request.institutionId} ${request.kind}`) ?? 0n) + item.allocated);
    total.set(request.institutionId, (total.get(request.institutionId) ?? 0n) + item.allocated);
    for (const piece of item.pieces) left.set(piece.sampleId, (left.get(piece.sampleId) ?? 0n) - piece.quantity);
  }
  const stock = new Map<string, Stock[]>();
  for (const s of input.samples) stock.set(s.kind, [...(stock.get(s.kind) ?? []), { sampleId: s.id, left: left.get(s.id)! }]);
  return { kindLeft, kindOffered: offered, lastRank, perKind, total, stock };
}

type Why = { reason: Reason; because: string; params: ExplanationParams };

interface ConsentNote {
  /** "samples A, B (the donor's consent does not cover genetic-analysis) were excluded by consent" */
  sentence: string;
  params: ExplanationParams;
}

/** The exclusions in one sentence, grouped by reason, naming a few identifiers of each group. */
function describeExclusions(exclusions: readonly ItemExclusion[]): ConsentNote | undefined {
  if (exclusions.length === 0) return undefined;
  const groups = new Map<string, string[]>();
  for (const e of exclusions) groups.set(e.message, [...(groups.get(e.message) ?? []), e.identifier]);
  const shown = [...groups].slice(0, 3).map(([message, identifiers]) => {
    const named = identifiers.slice(0, NAMED).join(', ');
    const more = identifiers.length > NAMED ? ` and ${identifiers.length - NAMED} more` : '';
    return `${identifiers.length === 1 ? 'sample' : 'samples'} ${named}${more} (${message})`;
  });
  const rest = [...groups].slice(3).reduce((n, [, ids]) => n + ids.length, 0);
  const uses = [...new Set(exclusions.flatMap((e) => e.uses))].sort();
  const sentence = `${exclusions.length} ${exclusions.length === 1 ? 'sample was' : 'samples were'} excluded by consent: ${shown.join('; ')}${rest > 0 ? `; and ${rest} more` : ''}`;
  return {
    sentence,
    params: { excluded: exclusions.length, excludedSamples: exclusions.map((e) => e.identifier).join(', '), missingUses: uses.join(', ') },
  };
}

function why(request: AllocationRequest, own: ItemProposal, state: FinalState, rules: AllocationRules, fmt: (q: bigint) => string, num: (q: bigint) => string, consent?: ConsentNote): Why {
  if (own.allocated === request.quantity) return { reason: 'full', because: '', params: {} };
  if ((state.kindOffered.get(request.kind) ?? 0n) === 0n) return { reason: 'not-offered', because: `no ${request.kind} is offered in this call`, params: {} };
  const cap = rules.institutionCap ?? {};
  const capLeft = minBig(
    cap.perKind === undefined ? NO_CAP : cap.perKind - (state.perKind.get(`${request.institutionId} ${request.kind}`) ?? 0n),
    cap.total === undefined ? NO_CAP : cap.total - (state.total.get(request.institutionId) ?? 0n),
  );
  const hasCap = cap.perKind !== undefined || cap.total !== undefined;
  const kindLeft = state.kindLeft.get(request.kind) ?? 0n;
  // The least a further cut (or a first one) must be for this item.
  const step = own.allocated > 0n ? 1n : maxBig(request.minimum, rules.minCut);
  const exhaustedAt = state.lastRank.get(request.kind) ?? request.rank;
  const exhausted = `${request.kind} was exhausted at rank ${exhaustedAt}`;
  const left = { exhaustedAt, left: num(kindLeft) };
  if (own.allocated === 0n && kindLeft < step) {
    return { reason: 'kind-exhausted', because: `the minimum useful quantity ${fmt(request.minimum)} could not be met after higher-ranked requests (${fmt(kindLeft)} of ${request.kind} left; ${exhausted})`, params: left };
  }
  if (kindLeft < step) return { reason: 'kind-exhausted', because: exhausted, params: left };
  if (hasCap && capLeft < step) {
    const limit = [cap.perKind === undefined ? '' : `${fmt(cap.perKind)} per kind`, cap.total === undefined ? '' : `${fmt(cap.total)} in all`].filter(Boolean).join(', ');
    return {
      reason: 'institution-cap',
      because: `the institution cap (${limit}) was reached`,
      params: { ...(cap.perKind === undefined ? {} : { capPerKind: num(cap.perKind) }), ...(cap.total === undefined ? {} : { capTotal: num(cap.total) }) },
    };
  }
  const everything = state.stock.get(request.kind) ?? [];
  const excluded = excludedSamples(request);
  const stock = everything.filter((s) => !excluded.has(s.sampleId));
  const mine = (s: Stock) => own.pieces.some((p) => p.sampleId === s.sampleId);
  const cuttableFrom = (from: readonly Stock[]) =>
    own.allocated === 0n
      ? largestCuttable(request.quantity, from, rules.minCut, maxPieces(rules)) >= step
      : from.some((s) => (mine(s) ? s.left > 0n : own.pieces.length < maxPieces(rules) && s.left >= rules.minCut));
  const cuttable = cuttableFrom(stock);
  if (!cuttable && consent && cuttableFrom(everything)) {
    // Material was left, but only in samples the donors' consent keeps from this application.
    return { reason: 'consent-scope-excluded', because: `what is left of ${request.kind} is in samples this application may not receive: ${consent.sentence}`, params: { left: num(kindLeft) } };
  }
  if (!cuttable) {
    return {
      reason: 'cutting',
      because: `what is left of ${request.kind} (${fmt(kindLeft)}) is spread over samples too small to cut it in at most ${maxPieces(rules)} pieces of at least ${fmt(rules.minCut)}`,
      params: { left: num(kindLeft), maxPieces: maxPieces(rules), minCut: num(rules.minCut) },
    };
  }
  return { reason: 'outweighed', because: `the rest of ${request.kind} went to requests worth more in total`, params: { left: num(kindLeft) } };
}
