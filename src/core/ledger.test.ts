import { describe, expect, it } from 'vitest';
import { checkLineage, genericIdentifier, rootIdentifier, shelfState, splitIdentifier } from './ledger.js';

describe('ledger rules', () => {
  it('names splits in the curation convention, splits of splits under the same generic', () => {
    expect(genericIdentifier('CE5C0400')).toBe('CE5C0400');
    expect(genericIdentifier('CE5C0400,0012')).toBe('CE5C0400');
    expect(splitIdentifier('CE5C0400', 12)).toBe('CE5C0400,0012');
    expect(splitIdentifier('CE5C0400,0012', 13)).toBe('CE5C0400,0013');
    expect(splitIdentifier('X', 12345)).toBe('X,12345');
    expect(rootIdentifier('CE5C', 7)).toBe('CE5C0007');
  });

  it('keeps shelf states in step with the reservation and leaves other states alone', () => {
    expect(shelfState('available', 1n)).toBe('reserved');
    expect(shelfState('reserved', 0n)).toBe('available');
    expect(shelfState('on_loan', 5n)).toBe('on_loan');
  });

  it('accepts a conserved lineage and names each broken rule', () => {
    const samples = [
      { id: 'r', quantity: 60n, reserved: 10n, activeReservations: 10n },
      { id: 'c', quantity: 30n, reserved: 0n, activeReservations: 0n },
    ];
    const entries = [
      { sampleId: 'r', kind: 'create', delta: 100n, reservedDelta: 0n },
      { sampleId: 'r', kind: 'split-out', delta: -30n, reservedDelta: 0n },
      { sampleId: 'c', kind: 'split-in', delta: 30n, reservedDelta: 0n },
      { sampleId: 'r', kind: 'loss', delta: -2n, reservedDelta: 0n },
      { sampleId: 'r', kind: 'consume', delta: -8n, reservedDelta: 0n },
      { sampleId: 'r', kind: 'reserve', delta: 0n, reservedDelta: 10n },
    ];
    expect(checkLineage('r', samples, entries)).toEqual([]);
    const broken = checkLineage('r', [{ ...samples[0]!, quantity: 61n }, { ...samples[1]!, activeReservations: 3n }], entries);
    expect(broken.map((v) => v.rule).sort()).toEqual(['lineage', 'reservations', 'sample-quantity']);
  });
});
