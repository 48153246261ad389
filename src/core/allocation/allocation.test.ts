import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutPieces, largestCuttable } from './cutting.js';
import { explainAllocation } from './explain.js';
import { buildModel, decodeSolution, realise, toUnits } from './formulation.js';
import { greedyAllocation } from './greedy.js';
import { objectiveValue, validateInput, type AllocationInput, type AllocationRules, type Proposal } from './model.js';
import { verifyAllocation } from './verify.js';
import { allocationCase, independentViolations } from './allocation.testkit.js';

describe('allocation core', () => {
  it('greedy proposals respect availability, the reserve, minimum useful quantities and caps', () => {
    fc.assert(
      fc.property(allocationCase(), ({ input, rules }) => {
        const proposal = greedyAllocation(input, rules);
        expect(independentViolations(input, rules, proposal)).toEqual([]);
        expect(verifyAllocation(input, rules, proposal)).toEqual({ ok: true, violations: [], details: [] });
      }),
      { numRuns: 400 },
    );
  });

  it('verify catches every broken rule a proposal can carry', () => {
    fc.assert(
      fc.property(allocationCase(), fc.nat(), fc.integer({ min: 1, max: 50 }), ({ input, rules }, pick, extra) => {
        const proposal = greedyAllocation(input, rules);
        const given = proposal.items.filter((i) => i.allocated > 0n);
        fc.pre(given.length > 0);
        const target = given[pick % given.length]!;
        // Add to one piece: the proposal now takes more than something allows or more than was asked.
        const broken: Proposal = {
          items: proposal.items.map((i) =>
            i === target ? { ...i, allocated: i.allocated + BigInt(extra), pieces: i.pieces.map((p, n) => (n === 0 ? { ...p, quantity: p.quantity + BigInt(extra) } : p)) } : i,
          ),
        };
        const independent = independentViolations(input, rules, broken);
        const verified = verifyAllocation(input, rules, broken);
        expect(verified.ok).toBe(independent.length === 0);
      }),
      { numRuns: 300 },
    );
  });

  it('verify refuses pieces below the smallest cut, an allocation under the minimum, a wrong kind and a missing answer', () => {
    const input: AllocationInput = {
      samples: [
        { id: 's1', kind: 'fines', available: 100n },
        { id: 's2', kind: 'chips', available: 100n },
      ],
      requests: [{ applicationId: 'a', itemId: '0', institutionId: 'i', kind: 'fines', quantity: 50n, minimum: 20n, score: 1, rank: 1 }],
    };
    const rules: AllocationRules = { minCut: 10n };
    const one = (pieces: Array<{ sampleId: string; quantity: bigint }>): Proposal => ({
      items: [{ applicationId: 'a', itemId: '0', allocated: pieces.reduce((s, p) => s + p.quantity, 0n), pieces }],
    });
    expect(verifyAllocation(input, rules, one([{ sampleId: 's1', quantity: 50n }])).ok).toBe(true);
    expect(verifyAllocation(input, rules, one([{ sampleId: 's1', quantity: 15n }])).violations.join()).toMatch(/outside 0 or \[20, 50\]/);
    expect(verifyAllocation(input, { minCut: 30n }, one([{ sampleId: 's1', quantity: 25n }])).violations.join()).toMatch(/below the smallest cut/);
    expect(verifyAllocation(input, rules, one([{ sampleId: 's2', quantity: 30n }])).violations.join()).toMatch(/is chips, not fines/);
    expect(verifyAllocation(input, rules, { items: [] }).violations.join()).toMatch(/has no answer/);
    const twice = verifyAllocation(input, { minCut: 10n, maxPieces: 1 }, one([{ sampleId: 's1', quantity: 20n }, { sampleId: 's1', quantity: 20n }]));
    expect(twice.details.map((d) => d.code)).toEqual(['too-many-pieces', 'duplicate-piece']);
    expect(twice.violations[0]).toMatch(/2 pieces, at most 1/);
    const over = verifyAllocation({ ...input, scale: 1, unit: 'g' }, { minCut: 10n, institutionCap: { total: 30n } }, one([{ sampleId: 's1', quantity: 50n }]));
    expect(over.details).toEqual([{ code: 'institution-cap', institutionId: 'i', message: 'institution i: 5.0 g in all, over the cap 3.0 g' }]);
  });

  it('cuts exactly, in at most maxPieces pieces of at least the smallest cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 60n }), { minLength: 1, maxLength: 5 }),
        fc.bigInt({ min: 1n, max: 10n }),
        fc.integer({ min: 1, max: 3 }),
        fc.bigInt({ min: 1n, max: 150n }),
        (lefts, minCut, pieces, limit) => {
          const stock = lefts.map((left, i) => ({ sampleId: `s${i}`, left }));
          const best = largestCuttable(limit, stock, minCut, pieces);
          expect(best <= limit).toBe(true);
          if (best === 0n) return;
          const cut = cutPieces(best, stock, minCut, pieces);
          expect(cut).not.toBeNull();
          expect(cut!.reduce((s, p) => s + p.quantity, 0n)).toBe(best);
          expect(cut!.length).toBeLessThanOrEqual(pieces);
          for (const p of cut!) {
            expect(p.quantity >= minCut).toBe(true);
            expect(p.quantity <= stock.find((s) => s.sampleId === p.sampleId)!.left).toBe(true);
          }
          expect(new Set(cut!.map((p) => p.sampleId)).size).toBe(cut!.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('explains each outcome in English with a stable code and its parameters', () => {
    const input: AllocationInput = {
      samples: [{ id: 's1', kind: 'drilled fines', available: 100_000n }],
      kinds: [{ kind: 'drilled fines', releasable: 16_000n }],
      requests: [
        { applicationId: 'a1', itemId: '0', institutionId: 'i1', kind: 'drilled fines', quantity: 10_000n, minimum: 1_000n, score: 3, rank: 1 },
        { applicationId: 'a2', itemId: '0', institutionId: 'i2', kind: 'drilled fines', quantity: 10_000n, minimum: 1_000n, score: 2, rank: 2 },
        { applicationId: 'a3', itemId: '0', institutionId: 'i3', kind: 'drilled fines', quantity: 10_000n, minimum: 1_000n, score: 1, rank: 3 },
        { applicationId: 'a4', itemId: '0', institutionId: 'i4', kind: 'scooped fines', quantity: 10_000n, minimum: 1_000n, score: 1, rank: 4 },
      ],
      scale: 4,
      unit: 'g',
    };
    const rules: AllocationRules = { minCut: 100n };
    const { items, applications } = explainAllocation(input, rules, greedyAllocation(input, rules));
    expect(items.map((i) => [i.outcome, i.reason])).toEqual([
      ['full', 'full'],
      ['partial', 'kind-exhausted'],
      ['none', 'kind-exhausted'],
      ['none', 'not-offered'],
    ]);
    expect(items[1]!.explanation).toBe('received 60% of the request (0.6000 g of 1.0000 g): drilled fines was exhausted at rank 2');
    expect(items[1]!.params).toMatchObject({ percent: 60, allocated: '0.6000', requested: '1.0000', exhaustedAt: 2, kind: 'drilled fines', unit: 'g' });
    expect(items[2]!.explanation).toMatch(/^nothing: the minimum useful quantity 0.1000 g could not be met/);
    expect(items[3]!.explanation).toBe('nothing: no scooped fines is offered in this call');
    expect(applications.map((a) => a.applicationId)).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('explains an institution cap and cutting limits', () => {
    const input: AllocationInput = {
      samples: [
        { id: 's1', kind: 'chips', available: 30n },
        { id: 's2', kind: 'chips', available: 30n },
        { id: 's3', kind: 'chips', available: 30n },
      ],
      requests: [
        { applicationId: 'a1', itemId: '0', institutionId: 'i1', kind: 'chips', quantity: 40n, minimum: 10n, score: 2, rank: 1 },
        { applicationId: 'a2', itemId: '0', institutionId: 'i1', kind: 'chips', quantity: 40n, minimum: 10n, score: 1, rank: 2 },
      ],
    };
    const capped = explainAllocation(input, { minCut: 5n, institutionCap: { perKind: 50n } }, greedyAllocation(input, { minCut: 5n, institutionCap: { perKind: 50n } }));
    expect(capped.items.map((i) => [String(i.allocated), i.reason])).toEqual([
      ['40', 'full'],
      ['10', 'institution-cap'],
    ]);
    expect(capped.items[1]!.params).toMatchObject({ capPerKind: '50' });
    const cut = explainAllocation(input, { minCut: 5n, maxPieces: 1 }, greedyAllocation(input, { minCut: 5n, maxPieces: 1 }));
    expect(cut.items.map((i) => [String(i.allocated), i.reason])).toEqual([
      ['30', 'cutting'],
      ['30', 'cutting'],
    ]);
  });

  it("keeps from each application the samples its consent check excluded, and says so with a stable code", () => {
    // Two frozen samples; the larger one's donor did not consent to genetic analysis, which a1 needs and a2 does not.
    const input: AllocationInput = {
      samples: [
        { id: 'id-big', identifier: 'CQ-0001-F1', kind: 'frozen', available: 50n },
        { id: 'id-small', identifier: 'CQ-0002-F1', kind: 'frozen', available: 10n },
        { id: 'id-block', identifier: 'CQ-0001-B1', kind: 'block', available: 30n },
      ],
      requests: [
        { applicationId: 'a1', itemId: 'frozen', institutionId: 'i1', kind: 'frozen', quantity: 30n, minimum: 5n, score: 3, rank: 1, exclusions: [{ sampleId: 'id-big', reason: 'use-not-consented', uses: ['genetic-analysis'] }, { sampleId: 'id-block', reason: 'use-not-consented', uses: ['genetic-analysis'] }] },
        { applicationId: 'a1', itemId: 'block', institutionId: 'i1', kind: 'block', quantity: 10n, minimum: 5n, score: 3, rank: 1, exclusions: [{ sampleId: 'id-block', reason: 'use-not-consented', uses: ['genetic-analysis'] }] },
        { applicationId: 'a2', itemId: 'frozen', institutionId: 'i2', kind: 'frozen', quantity: 30n, minimum: 5n, score: 1, rank: 2 },
      ],
    };
    const rules: AllocationRules = { minCut: 1n };
    const proposal = greedyAllocation(input, rules);
    expect(independentViolations(input, rules, proposal)).toEqual([]);
    const [frozen, block, other] = proposal.items;
    // a1 ranks first but may take only the small sample; a2, ranked below it, still gets the large one.
    expect(frozen!.pieces).toEqual([{ sampleId: 'id-small', quantity: 10n }]);
    expect(block!.allocated).toBe(0n);
    expect(other!.pieces).toEqual([{ sampleId: 'id-big', quantity: 30n }]);
    // Every other formulation honours the exclusions too.
    const built = buildModel(input, rules, 'pieces', proposal);
    expect(built.pieceColumns.filter((c) => c.request === 0).map((c) => c.sampleId)).toEqual(['id-small']);
    expect(built.pieceColumns.filter((c) => c.request === 1)).toEqual([]);
    expect(independentViolations(input, rules, realise(input, rules, [30n, 10n, 30n]).proposal)).toEqual([]);

    const { items, applications } = explainAllocation(input, rules, proposal);
    expect(items.map((i) => [i.outcome, i.reason])).toEqual([
      ['partial', 'consent-scope-excluded'],
      ['none', 'consent-scope-excluded'],
      ['full', 'full'],
    ]);
    expect(items[0]!.exclusions).toEqual([
      { code: 'consent-scope-excluded', sampleId: 'id-big', identifier: 'CQ-0001-F1', reason: 'use-not-consented', uses: ['genetic-analysis'], message: "the donor's consent does not cover genetic-analysis" },
    ]);
    expect(items[0]!.params).toMatchObject({ excluded: 1, excludedSamples: 'CQ-0001-F1', missingUses: 'genetic-analysis' });
    expect(items[0]!.explanation).toBe(
      "received 33% of the request (10 of 30): what is left of frozen is in samples this application may not receive: 1 sample was excluded by consent: sample CQ-0001-F1 (the donor's consent does not cover genetic-analysis)",
    );
    expect(applications[0]!.explanation).toContain('block: nothing: what is left of block is in samples this application may not receive');
    expect(items[2]!.exclusions).toEqual([]);

    // An application that got all it asked for still hears which samples were kept from it.
    const enough: AllocationInput = { ...input, requests: [{ ...input.requests[0]!, quantity: 8n }] };
    const full = explainAllocation(enough, rules, greedyAllocation(enough, rules)).items[0]!;
    expect([full.outcome, full.reason]).toEqual(['full', 'full']);
    expect(full.explanation).toBe("received the full request (8): 1 sample was excluded by consent: sample CQ-0001-F1 (the donor's consent does not cover genetic-analysis)");

    // The check refuses a piece from an excluded sample, naming the reason and the uses.
    const edited: Proposal = { items: [{ ...proposal.items[0]!, allocated: 30n, pieces: [{ sampleId: 'id-big', quantity: 30n }] }, proposal.items[1]!, { ...proposal.items[2]!, allocated: 10n, pieces: [{ sampleId: 'id-small', quantity: 10n }] }] };
    const verified = verifyAllocation(input, rules, edited);
    expect(verified.details).toEqual([
      { code: 'consent-excluded', applicationId: 'a1', itemId: 'frozen', sampleId: 'id-big', reason: 'use-not-consented', uses: ['genetic-analysis'], message: "item a1/frozen: sample id-big may not go to this application: the donor's consent does not cover genetic-analysis" },
    ]);
    expect(() => validateInput({ ...input, requests: [{ ...input.requests[0]!, exclusions: [{ sampleId: 'nowhere', reason: 'no-consent' }] }] }, rules)).toThrow(
      expect.objectContaining({ errors: [{ field: 'requests[0].exclusions[0].sampleId', message: 'is not a sample of the pool' }] }),
    );
  });

  it('refuses ill-formed problems naming the field', () => {
    const input: AllocationInput = {
      samples: [{ id: 's', kind: 'k', available: 10n }],
      requests: [{ applicationId: 'a', itemId: '0', institutionId: 'i', kind: 'k', quantity: 5n, minimum: 6n, score: 1, rank: 1 }],
    };
    expect(() => validateInput(input, { minCut: 1n })).toThrow(expect.objectContaining({ code: 'validation-failed', errors: [{ field: 'requests[0].minimum', message: expect.any(String) }] }));
    expect(() => validateInput({ ...input, requests: [] }, { minCut: 0n })).toThrow(expect.objectContaining({ errors: [{ field: 'minCut', message: expect.any(String) }] }));
    expect(() => validateInput({ ...input, requests: [] }, { minCut: 1n, maxPieces: 9 })).toThrow(expect.objectContaining({ errors: [{ field: 'maxPieces', message: expect.any(String) }] }));
  });

  it('decodes solver values only when they are whole units', () => {
    expect(toUnits(41.9999999999)).toBe(42n);
    expect(() => toUnits(41.5)).toThrow(/not a whole number/);
    expect(() => toUnits(Number.NaN)).toThrow();
    expect(() => toUnits(-3)).toThrow(/out of range/);
  });

  it('decodes a pieces solution and realises aggregate totals into valid proposals', () => {
    fc.assert(
      fc.property(allocationCase(), ({ input, rules }) => {
        const greedy = greedyAllocation(input, rules);
        // Feeding the greedy proposal back through the model's columns decodes to the same proposal.
        const built = buildModel(input, rules, 'pieces', greedy);
        if (built.model.numCols > 0) {
          const decoded = decodeSolution(input, rules, built, built.model.start!);
          expect(objectiveValue(input, decoded.proposal)).toBeCloseTo(objectiveValue(input, greedy), 9);
          expect(independentViolations(input, rules, decoded.proposal)).toEqual([]);
        }
        // Any totals, realised, give a valid proposal.
        const realised = realise(input, rules, greedy.items.map((i) => i.allocated));
        expect(independentViolations(input, rules, realised.proposal)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
