import { describe, expect, it } from 'vitest';
import { allocationExclusions, biohazardDeclaration, checkEligibility, donorCodeProblem, identifyingPaths, requiredUses, type SampleConsent } from './consent.js';

const sample = (sampleId: string, over: Partial<SampleConsent> = {}): SampleConsent => ({
  sampleId,
  humanConsent: true,
  consentWithdrawn: false,
  donor: { withdrawn: false, scope: ['genetic-analysis'] },
  ...over,
});

describe('consent eligibility', () => {
  it('excludes withdrawn material whatever the uses, and material of non-human collections never needs consent', () => {
    const result = checkEligibility([], [sample('a', { consentWithdrawn: true }), sample('b', { donor: { withdrawn: true, scope: null } }), sample('c', { humanConsent: false, donor: null })]);
    expect(result.eligible).toEqual(['c']);
    expect(result.excluded.map((e) => [e.sampleId, e.reason])).toEqual([['a', 'consent-withdrawn'], ['b', 'consent-withdrawn']]);
  });

  it('names the uses a consent does not cover, and refuses human material with no consent', () => {
    const result = checkEligibility(['genetic-analysis', 'commercial-use'], [sample('a'), sample('b', { donor: null }), sample('c', { donor: { withdrawn: false, scope: ['genetic-analysis', 'commercial-use'] } })]);
    expect(result.eligible).toEqual(['c']);
    expect(result.excluded).toEqual([
      expect.objectContaining({ sampleId: 'a', reason: 'use-not-consented', uses: ['commercial-use'] }),
      expect.objectContaining({ sampleId: 'b', reason: 'no-consent' }),
    ]);
  });

  it("excludes, per application, the samples whose consent does not cover that application's uses (external sharing included)", () => {
    const held = (s: SampleConsent) => ({ ...s, holderInstitutionId: 'bank' });
    const samples = [
      held(sample('genetic', { donor: { withdrawn: false, scope: ['genetic-analysis', 'external-sharing'] } })),
      held(sample('local-only', { donor: { withdrawn: false, scope: ['genetic-analysis'] } })),
      held(sample('withdrawn', { donor: { withdrawn: true, scope: ['genetic-analysis', 'external-sharing'] } })),
      { ...sample('lunar', { humanConsent: false, donor: null }), holderInstitutionId: 'bank' },
    ];
    const exclusions = allocationExclusions(
      [
        { applicationId: 'inside', institutionId: 'bank', uses: ['genetic-analysis'] },
        { applicationId: 'outside', institutionId: 'north', uses: [] },
        { applicationId: 'linkage', institutionId: 'bank', uses: ['data-linkage'] },
      ],
      samples,
    );
    const summary = (id: string) => exclusions.get(id)?.map((e) => [e.sampleId, e.reason, e.uses ?? []]);
    expect(summary('inside')).toEqual([['withdrawn', 'consent-withdrawn', []]]);
    expect(summary('outside')).toEqual([['local-only', 'use-not-consented', ['external-sharing']], ['withdrawn', 'consent-withdrawn', []]]);
    expect(summary('linkage')).toEqual([
      ['genetic', 'use-not-consented', ['data-linkage']],
      ['local-only', 'use-not-consented', ['data-linkage']],
      ['withdrawn', 'consent-withdrawn', []],
    ]);
    expect(exclusions.get('linkage')![0]!.message).toBe("the donor's consent does not cover data-linkage");
    expect(allocationExclusions([{ applicationId: 'a', institutionId: 'bank', uses: ['genetic-analysis'] }], samples.filter((s) => s.sampleId !== 'withdrawn')).has('a')).toBe(false);
  });

  it('adds external sharing when the material leaves the holding institution', () => {
    expect(requiredUses(['genetic-analysis'], 'inst-a', 'inst-a')).toEqual(['genetic-analysis']);
    expect(requiredUses(['genetic-analysis'], 'inst-b', 'inst-a')).toEqual(['genetic-analysis', 'external-sharing']);
    expect(requiredUses([], 'inst-b', null)).toEqual([]);
  });
});

describe('donor identity', () => {
  it('finds identifying keys however they are spelled, at any depth', () => {
    expect(identifyingPaths({ code: 'D-1', attributes: { Patient_Name: 'x', site: 'lung', contact: [{ phone: '1' }] }, 身份证号: 'y' })).toEqual(['attributes.Patient_Name', 'attributes.contact.0.phone', '身份证号']);
    expect(identifyingPaths({ code: 'D-1', diagnoses: ['U07.1'] })).toEqual([]);
  });

  it('accepts pseudonyms and refuses identity document and phone numbers', () => {
    expect(donorCodeProblem('CQ-COVID-0042')).toBeUndefined();
    expect(donorCodeProblem('110101199003077777')).toMatch(/letter/);
    expect(donorCodeProblem('P13800138000')).toMatch(/identity or phone/);
    expect(donorCodeProblem('x')).toBeDefined();
  });
});

describe('biohazard declaration', () => {
  const item = (identifier: string, level: number | null) => ({ identifier, kind: 'frozen', biosafetyLevel: level, quantity: '1', unit: 'count' });

  it('is not needed for level 1 or unknown material', () => {
    expect(biohazardDeclaration([item('A', 1), item('B', null)])).toMatchObject({ required: false, lines: [] });
  });

  it('declares level 2 as UN3373 Category B and level 3 as UN2814 Category A, naming the hazardous samples', () => {
    const b = biohazardDeclaration([item('A', 1), item('B', 2)]);
    expect(b).toMatchObject({ required: true, level: 2, unNumber: 'UN3373', packingInstruction: 'P650' });
    expect(b.lines.at(-1)).toContain('B (frozen, 1 count, BSL-2)');
    expect(b.lines.join('\n')).not.toContain('A (');
    const a = biohazardDeclaration([item('B', 2), item('C', 3)]);
    expect(a).toMatchObject({ required: true, level: 3, unNumber: 'UN2814', packingInstruction: 'P620' });
    expect(a.lines.join('\n')).toContain("Shipper's Declaration for Dangerous Goods");
  });
});
