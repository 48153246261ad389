import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eligible, planAssignments } from './assignment.js';

describe('automatic assignment plan', () => {
  it('never assigns a conflicted reviewer, never twice, at most N, and spreads the load', () => {
    const arbitrary = fc.record({
      reviewers: fc.integer({ min: 1, max: 8 }),
      institutions: fc.integer({ min: 1, max: 5 }),
      apps: fc.array(fc.record({ inst: fc.integer({ min: 0, max: 4 }), blocked: fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 2 }) }), { maxLength: 30 }),
      n: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(arbitrary, ({ reviewers, institutions, apps, n }) => {
        const panel = Array.from({ length: reviewers }, (_, i) => ({ id: `r${i}`, institutionId: `i${i % institutions}` }));
        const applications = apps.map((a, i) => ({ id: `a${String(i).padStart(2, '0')}`, institutionId: `i${a.inst % institutions}`, applicantId: `p${i}`, current: [], live: 0, blocked: new Set(a.blocked.map((b) => `r${b}`)) }));
        const plan = planAssignments(applications, panel, n, new Map());
        const pairs = new Set<string>();
        for (const { applicationId, reviewerId } of plan.assignments) {
          const application = applications.find((a) => a.id === applicationId)!;
          expect(eligible(panel.find((r) => r.id === reviewerId)!, application)).toBe(true);
          expect(pairs.has(`${applicationId}/${reviewerId}`)).toBe(false);
          pairs.add(`${applicationId}/${reviewerId}`);
        }
        for (const application of applications) {
          const got = plan.assignments.filter((a) => a.applicationId === application.id).length;
          const possible = panel.filter((r) => eligible(r, application)).length;
          expect(got).toBe(Math.min(n, possible));
          const short = plan.shortfalls.find((s) => s.applicationId === application.id)?.missing ?? 0;
          expect(got + short).toBe(n);
        }
      }),
    );
  });

  it('balances an unconstrained panel to within one review', () => {
    const panel = Array.from({ length: 7 }, (_, i) => ({ id: `r${i}`, institutionId: 'reviewers' }));
    const applications = Array.from({ length: 85 }, (_, i) => ({ id: `a${i}`, institutionId: `i${i % 23}`, applicantId: `p${i}`, current: [], live: 0, blocked: new Set<string>() }));
    const plan = planAssignments(applications, panel, 3, new Map());
    const load = panel.map((r) => plan.assignments.filter((a) => a.reviewerId === r.id).length);
    expect(load.reduce((a, b) => a + b, 0)).toBe(255);
    expect(Math.max(...load) - Math.min(...load)).toBeLessThanOrEqual(1);
  });
});
