import { describe, expect, it } from 'vitest';
import { closeBlockers, discrepancy, dueSoon, normaliseDoi, overdue } from './distribution.js';
import { formatQuantity } from './quantity.js';

const fmt = (units: bigint) => formatQuantity(units, 4);

describe('distribution rules', () => {
  it('finds discrepancies on receipt', () => {
    expect(discrepancy(10_000n, 10_000n, 'intact', fmt)).toBeNull();
    expect(discrepancy(10_000n, 9_000n, 'intact', fmt)).toMatchObject({ kind: 'quantity', description: 'Shipped 1.0000, found 0.9000 (short by 0.1000)' });
    expect(discrepancy(10_000n, 11_000n, 'damaged', fmt)?.description).toContain('over by 0.1000, damaged');
    expect(discrepancy(10_000n, 10_000n, 'damaged', fmt)?.kind).toBe('condition');
    expect(discrepancy(10_000n, 0n, 'intact', fmt)?.kind).toBe('missing');
    expect(discrepancy(10_000n, 10_000n, 'missing', fmt)?.kind).toBe('missing');
  });

  it('tells overdue obligations apart and ignores closed loans', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const loan = { state: 'open' as const, dueAt: new Date('2026-07-01T00:00:00Z'), reportDueAt: new Date('2026-05-01T00:00:00Z'), reports: 0, outstanding: 5n };
    expect(overdue(loan, now)).toEqual({ report: true, material: false });
    expect(overdue({ ...loan, reports: 1 }, now)).toEqual({ report: false, material: false });
    expect(overdue({ ...loan, dueAt: new Date('2026-05-31T00:00:00Z') }, now)).toEqual({ report: true, material: true });
    expect(overdue({ ...loan, dueAt: new Date('2026-05-31T00:00:00Z'), outstanding: 0n }, now).material).toBe(false);
    expect(overdue({ ...loan, state: 'closed' }, now)).toEqual({ report: false, material: false });
  });

  it('lists every blocker of a loan closing', () => {
    const open = { state: 'open' as const, dueAt: new Date(), reportDueAt: new Date(), reports: 0, outstanding: 1_234n, openIncidents: 1, shipmentsInTransit: 1, returnsInTransit: 2 };
    expect(closeBlockers(open, fmt).map((b) => b.field)).toEqual(['shipments', 'returns', 'outstanding', 'reports', 'incidents']);
    expect(closeBlockers(open, fmt)[1]!.message).toBe('2 return(s) not yet received back into custody');
    expect(closeBlockers(open, fmt)[2]!.message).toBe('0.1234 is neither returned nor reported consumed');
    expect(closeBlockers({ ...open, reports: 2, outstanding: 0n, openIncidents: 0, shipmentsInTransit: 0, returnsInTransit: 0 }, fmt)).toEqual([]);
  });

  it('reminds within the window only', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(dueSoon(new Date('2026-01-10T00:00:00Z'), now)).toBe(true);
    expect(dueSoon(new Date('2026-02-10T00:00:00Z'), now)).toBe(false);
  });

  it('normalises DOIs and refuses what is not one', () => {
    expect(normaliseDoi('https://doi.org/10.1038/s41586-021-04100-2')).toBe('10.1038/s41586-021-04100-2');
    expect(normaliseDoi('doi: 10.1126/science.abl7957')).toBe('10.1126/science.abl7957');
    expect(normaliseDoi('10.12/x')).toBeNull();
    expect(normaliseDoi('not a doi')).toBeNull();
  });
});
