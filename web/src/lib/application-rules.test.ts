import { describe, expect, it } from 'vitest';
import { draftProblems, OTHER, submitProblems, toBody, type ApplicationDraft, type Offer } from './application-rules';

const offer: Offer = { scale: 4, unit: 'g', directions: ['age of lunar volcanism'], releasable: { scooped: '2.5000', drilled: '1.0000' }, humanConsent: false };
const draft = (change: Partial<ApplicationDraft> = {}): ApplicationDraft => ({
  title: 'Basalt ages',
  researchDirection: 'age of lunar volcanism',
  researchDirectionOther: '',
  methods: 'SIMS',
  destructive: true,
  justification: 'Young basalts',
  ethicsReference: '',
  items: [{ kind: 'scooped', quantity: '1.5000', minimum: '0.5' }],
  ...change,
});

describe('application form checks', () => {
  it('accepts a complete application', () => {
    expect(submitProblems(draft(), offer)).toEqual({});
  });

  it('refuses more decimals than the collection keeps, zero, and more than the call releases', () => {
    const problems = draftProblems(draft({ items: [{ kind: 'scooped', quantity: '1.00001', minimum: '' }, { kind: 'drilled', quantity: '0', minimum: '' }] }), offer);
    expect(problems['items.0.quantity']).toEqual({ key: 'apply.err.scale', values: { scale: 4 } });
    expect(problems['items.1.quantity']?.key).toBe('apply.err.zero');
    expect(draftProblems(draft({ items: [{ kind: 'scooped', quantity: '2.5001', minimum: '' }] }), offer)['items.0.quantity']).toEqual({ key: 'apply.err.tooMuch', values: { max: '2.5000', unit: 'g' } });
    expect(draftProblems(draft({ items: [{ kind: 'scooped', quantity: '2.5000', minimum: '' }] }), offer)).toEqual({});
  });

  it('refuses a minimum above the quantity and a kind asked twice', () => {
    const problems = draftProblems(draft({ items: [{ kind: 'scooped', quantity: '1', minimum: '1.0001' }, { kind: 'scooped', quantity: '1', minimum: '' }] }), offer);
    expect(problems['items.0.minimum']?.key).toBe('apply.err.minimum');
    expect(problems['items.1.kind']?.key).toBe('apply.err.twice');
  });

  it('needs a direction, methods, justification and an item to submit, but not to save a draft', () => {
    const empty = draft({ researchDirection: '', methods: ' ', justification: '', items: [] });
    expect(draftProblems(empty, offer)).toEqual({});
    expect(Object.keys(submitProblems(empty, offer)).sort()).toEqual(['items', 'justification', 'methods', 'researchDirection']);
    expect(submitProblems(draft({ researchDirection: OTHER, researchDirectionOther: 'regolith maturity' }), offer)).toEqual({});
  });

  it('sends the quantities exactly as typed and the other direction as text', () => {
    const body = toBody(draft({ researchDirection: OTHER, researchDirectionOther: ' maturity ', items: [{ kind: 'scooped', quantity: '0.1000 ', minimum: '' }] }), offer);
    expect(body.researchDirection).toBeNull();
    expect(body.researchDirectionOther).toBe('maturity');
    expect(body.items).toEqual([{ kind: 'scooped', quantity: '0.1000' }]);
  });
});
