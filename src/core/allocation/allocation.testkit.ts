/**
 * Test helpers for allocation: random problems, an independent rule checker
 * (written apart from verify.ts so the two check each other) and a brute-force
 * optimum for small problems.
 */
import fc from 'fast-check';
import type { AllocationInput, AllocationRequest, AllocationRules, PoolSample, Proposal } from './model.js';

export interface CaseOptions {
  maxSamples?: number;
  maxRequests?: number;
  maxQuantity?: number;
  kinds?: string[];
  /** Let requests exclude some samples, as the donors' consent does (default true). */
  exclusions?: boolean;
}

export interface AllocationCase {
  input: AllocationInput;
  rules: AllocationRules;
}

export function allocationCase(options: CaseOptions = {}): fc.Arbitrary<AllocationCase> {
  const kinds = options.kinds ?? ['scooped fines', 'drilled fines'];
  const maxQuantity = options.maxQuantity ?? 60;
  const sample = fc.record({
    kind: fc.constantFrom(...kinds),
    available: fc.oneof({ weight: 1, arbitrary: fc.bigInt({ min: 0n, max: BigInt(maxQuantity) }) }, { weight: 3, arbitrary: fc.bigInt({ min: BigInt(Math.ceil(maxQuantity / 2)), max: BigInt(maxQuantity) }) }),
    releasable: fc.option(fc.bigInt({ min: 0n, max: BigInt(maxQuantity) }), { nil: undefined, freq: 3 }),
  });
  const request = fc
    .record({
      kind: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...kinds) }, { weight: 1, arbitrary: fc.constant('not offered') }),
      institution: fc.constantFrom('i1', 'i2', 'i3'),
      quantity: fc.bigInt({ min: 1n, max: BigInt(maxQuantity) }),
      minimumShare: fc.integer({ min: 1, max: 100 }),
      score: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.double({ min: -3, max: 3, noNaN: true })),
      items: fc.integer({ min: 1, max: 2 }),
      // Indices into the pool of samples this application's consent keeps from it.
      excluded: options.exclusions === false ? fc.constant([] as number[]) : fc.oneof({ weight: 3, arbitrary: fc.constant([] as number[]) }, { weight: 1, arbitrary: fc.uniqueArray(fc.nat({ max: 5 }), { minLength: 1, maxLength: 2 }) }),
    })
    .map((r) => ({ ...r, minimum: maxOf(1n, (r.quantity * BigInt(r.minimumShare)) / 100n) }));
  return fc
    .record({
      samples: fc.array(sample, { minLength: 1, maxLength: options.maxSamples ?? 5 }),
      requests: fc.array(request, { minLength: 1, maxLength: options.maxRequests ?? 6 }),
      kindLimits: fc.array(fc.option(fc.bigInt({ min: 0n, max: BigInt(maxQuantity * 2) }), { nil: undefined, freq: 3 }), { minLength: kinds.length, maxLength: kinds.length }),
      minCut: fc.bigInt({ min: 1n, max: BigInt(Math.max(1, Math.floor(maxQuantity / 5))) }),
      maxPieces: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      perKind: fc.option(fc.bigInt({ min: BigInt(Math.floor(maxQuantity / 4)), max: BigInt(maxQuantity) }), { nil: undefined, freq: 2 }),
      total: fc.option(fc.bigInt({ min: BigInt(Math.floor(maxQuantity / 2)), max: BigInt(maxQuantity * 2) }), { nil: undefined, freq: 2 }),
    })
    .map(({ samples, requests, kindLimits, minCut, maxPieces, perKind, total }) => {
      const pool: PoolSample[] = samples.map((s, i) => ({ id: `s${i}`, kind: s.kind, available: s.available, ...(s.releasable === undefined ? {} : { releasable: s.releasable }) }));
      // Ranks follow scores, best first, as the review ranking gives them.
      const order = requests.map((_, i) => i).sort((a, b) => requests[b]!.score - requests[a]!.score || a - b);
      const rank = new Map(order.map((index, position) => [index, position + 1]));
      const items: AllocationRequest[] = requests.map((r, i) => ({
        applicationId: `a${i}`,
        itemId: '0',
        institutionId: r.institution,
        kind: r.kind,
        quantity: r.quantity,
        minimum: r.minimum,
        score: r.score,
        rank: rank.get(i)!,
        ...(r.excluded.some((n) => n < pool.length)
          ? { exclusions: r.excluded.filter((n) => n < pool.length).map((n) => ({ sampleId: `s${n}`, reason: 'use-not-consented' as const, uses: ['genetic-analysis'] })) }
          : {}),
      }));
      const input: AllocationInput = {
        samples: pool,
        kinds: kinds.flatMap((kind, i) => (kindLimits[i] === undefined ? [] : [{ kind, releasable: kindLimits[i]! }])),
        requests: items,
        scale: 1,
        unit: 'g',
      };
      const cap = { ...(perKind === undefined ? {} : { perKind }), ...(total === undefined ? {} : { total }) };
      const rules: AllocationRules = { minCut, ...(maxPieces === undefined ? {} : { maxPieces }), ...(Object.keys(cap).length ? { institutionCap: cap } : {}) };
      return { input, rules };
    });
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function sampleLimit(s: PoolSample): bigint {
  return s.releasable !== undefined && s.releasable < s.available ? s.releasable : s.available;
}

/** Every rule, checked directly from the problem's statement. */
export function independentViolations(input: AllocationInput, rules: AllocationRules, proposal: Proposal): string[] {
  const out: string[] = [];
  const pieces = rules.maxPieces ?? 2;
  const requestOf = (applicationId: string, itemId: string) => input.requests.find((r) => r.applicationId === applicationId && r.itemId === itemId);
  for (const r of input.requests) {
    const answers = proposal.items.filter((i) => i.applicationId === r.applicationId && i.itemId === r.itemId);
    if (answers.length !== 1) out.push(`${r.applicationId}: ${answers.length} answers`);
  }
  const usedBySample = new Map<string, bigint>();
  const usedByKind = new Map<string, bigint>();
  const usedByInstitutionKind = new Map<string, bigint>();
  const usedByInstitution = new Map<string, bigint>();
  for (const item of proposal.items) {
    const r = requestOf(item.applicationId, item.itemId);
    if (!r) {
      out.push(`${item.applicationId}: not requested`);
      continue;
    }
    let sum = 0n;
    for (const p of item.pieces) {
      const s = input.samples.find((x) => x.id === p.sampleId);
      if (!s || s.kind !== r.kind) out.push(`${item.applicationId}: piece from ${p.sampleId} of another kind`);
      if (r.exclusions?.some((e) => e.sampleId === p.sampleId)) out.push(`${item.applicationId}: piece from ${p.sampleId}, which its consent check excluded`);
      if (p.quantity < rules.minCut) out.push(`${item.applicationId}: piece below the smallest cut`);
      sum += p.quantity;
      usedBySample.set(p.sampleId, (usedBySample.get(p.sampleId) ?? 0n) + p.quantity);
    }
    if (sum !== item.allocated) out.push(`${item.applicationId}: pieces do not add up`);
    if (new Set(item.pieces.map((p) => p.sampleId)).size !== item.pieces.length) out.push(`${item.applicationId}: two pieces from one sample`);
    if (item.pieces.length > pieces) out.push(`${item.applicationId}: too many pieces`);
    if (item.allocated !== 0n && (item.allocated < r.minimum || item.allocated > r.quantity)) out.push(`${item.applicationId}: below the minimum or above the request`);
    usedByKind.set(r.kind, (usedByKind.get(r.kind) ?? 0n) + item.allocated);
    const ik = `${r.institutionId}/${r.kind}`;
    usedByInstitutionKind.set(ik, (usedByInstitutionKind.get(ik) ?? 0n) + item.allocated);
    usedByInstitution.set(r.institutionId, (usedByInstitution.get(r.institutionId) ?? 0n) + item.allocated);
  }
  for (const [id, used] of usedBySample) {
    const s = input.samples.find((x) => x.id === id);
    if (s && used > sampleLimit(s)) out.push(`sample ${id} over-allocated`);
  }
  for (const [kind, used] of usedByKind) {
    const declared = input.kinds?.find((k) => k.kind === kind)?.releasable;
    if (declared !== undefined && used > declared) out.push(`kind ${kind}: the reserve was touched`);
  }
  const cap = rules.institutionCap;
  for (const [key, used] of usedByInstitutionKind) if (cap?.perKind !== undefined && used > cap.perKind) out.push(`${key}: over the per-kind cap`);
  for (const [key, used] of usedByInstitution) if (cap?.total !== undefined && used > cap.total) out.push(`${key}: over the total cap`);
  return out;
}

/**
 * The optimum by exhaustive search over every piece of every item (small
 * problems only; memoised on what is left): the best Σ coefficient · allocated
 * over all valid proposals.
 */
export function bruteForceOptimum(input: AllocationInput, rules: AllocationRules, coefficients: readonly number[]): number {
  const maxPieces = rules.maxPieces ?? 2;
  const left = new Map(input.samples.map((s) => [s.id, sampleLimit(s)]));
  const kindLeft = new Map<string, bigint>();
  for (const s of input.samples) kindLeft.set(s.kind, (kindLeft.get(s.kind) ?? 0n) + sampleLimit(s));
  for (const k of input.kinds ?? []) if (kindLeft.has(k.kind) && k.releasable < kindLeft.get(k.kind)!) kindLeft.set(k.kind, k.releasable);
  const cap = rules.institutionCap ?? {};
  const perKind = new Map<string, bigint>();
  const total = new Map<string, bigint>();
  const memo = new Map<string, number>();
  const bump = (map: Map<string, bigint>, key: string, by: bigint) => map.set(key, (map.get(key) ?? 0n) + by);
  const state = (index: number) => `${index}|${[...left.values()].join(',')}|${[...kindLeft].join(',')}|${[...perKind].join(',')}|${[...total].join(',')}`;

  /** The best value of items index.. onwards, given what is left. */
  const from = (index: number): number => {
    if (index === input.requests.length) return 0;
    const key = state(index);
    const known = memo.get(key);
    if (known !== undefined) return known;
    const r = input.requests[index]!;
    const ik = `${r.institutionId}/${r.kind}`;
    const candidates = input.samples.filter((s) => s.kind === r.kind && !r.exclusions?.some((e) => e.sampleId === s.id)).map((s) => s.id);
    let best = -Infinity;
    const piece = (c: number, sum: bigint, count: number): void => {
      if (c === candidates.length) {
        if (sum !== 0n && (sum < r.minimum || sum > r.quantity)) return;
        if (sum > (kindLeft.get(r.kind) ?? 0n)) return;
        if (cap.perKind !== undefined && (perKind.get(ik) ?? 0n) + sum > cap.perKind) return;
        if (cap.total !== undefined && (total.get(r.institutionId) ?? 0n) + sum > cap.total) return;
        bump(kindLeft, r.kind, -sum);
        bump(perKind, ik, sum);
        bump(total, r.institutionId, sum);
        const value = coefficients[index]! * Number(sum) + from(index + 1);
        if (value > best) best = value;
        bump(kindLeft, r.kind, sum);
        bump(perKind, ik, -sum);
        bump(total, r.institutionId, -sum);
        return;
      }
      const id = candidates[c]!;
      piece(c + 1, sum, count);
      if (count >= maxPieces) return;
      const have = left.get(id)!;
      for (let q = rules.minCut; q <= have && sum + q <= r.quantity; q++) {
        left.set(id, have - q);
        piece(c + 1, sum + q, count + 1);
      }
      left.set(id, have);
    };
    piece(0, 0n, 0);
    memo.set(key, best);
    return best;
  };
  return from(0);
}
