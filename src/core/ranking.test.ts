import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rankApplications, rankApplicationsNaive, weightedScore, type ScoredReview } from './ranking.js';

const one = [{ key: 'merit', weight: 1 }];
const review = (applicationId: string, reviewerId: string, merit: number): ScoredReview => ({ applicationId, reviewerId, scores: { merit } });

describe('ranking', () => {
  it('weights criteria', () => {
    const criteria = [{ key: 'merit', weight: 3 }, { key: 'feasibility', weight: 1 }];
    expect(weightedScore({ merit: 5, feasibility: 1 }, criteria)).toBe(4);
  });

  it('normalises per reviewer: a harsh reviewer’s best beats a lenient reviewer’s average', () => {
    // Harsh reviewer H gives 3, 1, 2 (mean 2); lenient L gives 4, 5, 3 (mean 4).
    const reviews = [review('A', 'H', 3), review('B', 'H', 1), review('C', 'H', 2), review('D', 'L', 4), review('E', 'L', 5), review('F', 'L', 3)];
    const byRaw = [...reviews].sort((a, b) => b.scores.merit! - a.scores.merit!).map((r) => r.applicationId);
    expect(byRaw.indexOf('D')).toBeLessThan(byRaw.indexOf('A'));

    const ranked = rankApplications(reviews, one);
    expect(ranked.map((r) => r.applicationId)).toEqual(['E', 'A', 'D', 'C', 'F', 'B']);
    const a = ranked.find((r) => r.applicationId === 'A')!;
    const d = ranked.find((r) => r.applicationId === 'D')!;
    expect(a.rawMean).toBe(3);
    expect(d.rawMean).toBe(4);
    expect(a.normalised).toBeCloseTo(1.2247, 4);
    expect(d.normalised).toBe(0);
    expect(a.rank).toBeLessThan(d.rank);
  });

  it('shows the spread when reviewers disagree', () => {
    const reviews = [
      review('X', 'R1', 5), review('Y', 'R1', 1), review('Z', 'R1', 3),
      review('X', 'R2', 1), review('Y', 'R2', 5), review('Z', 'R2', 3),
    ];
    const ranked = rankApplications(reviews, one);
    const x = ranked.find((r) => r.applicationId === 'X')!;
    const z = ranked.find((r) => r.applicationId === 'Z')!;
    expect(x.normalised).toBe(0);
    expect(x.spread.sd).toBeCloseTo(1.2247, 4);
    expect(x.spread.rawMin).toBe(1);
    expect(x.spread.rawMax).toBe(5);
    expect(z.spread.sd).toBe(0);
  });

  it('places a reviewer with a single review against the whole panel', () => {
    const reviews = [review('A', 'R1', 2), review('B', 'R1', 4), review('C', 'R2', 5)];
    const ranked = rankApplications(reviews, one);
    expect(ranked[0]!.applicationId).toBe('C');
    expect(ranked[0]!.normalised).toBeGreaterThan(0);
  });

  it('agrees with the naive baseline on any input', () => {
    const arbitrary = fc.array(fc.record({ a: fc.integer({ min: 0, max: 30 }), r: fc.integer({ min: 0, max: 6 }), s: fc.integer({ min: 1, max: 5 }), f: fc.integer({ min: 1, max: 5 }) }), { maxLength: 80 });
    const criteria = [{ key: 'merit', weight: 2 }, { key: 'feasibility', weight: 1 }];
    fc.assert(
      fc.property(arbitrary, (rows) => {
        const reviews = rows.map((row) => ({ applicationId: `a${row.a}`, reviewerId: `r${row.r}`, scores: { merit: row.s, feasibility: row.f } }));
        const fast = rankApplications(reviews, criteria);
        const naive = rankApplicationsNaive(reviews, criteria);
        expect(fast.length).toBe(naive.length);
        fast.forEach((entry, i) => expect(entry.normalised).toBeCloseTo(naive[i]!.normalised, 3));
      }),
    );
  });
});
