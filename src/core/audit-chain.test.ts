import { describe, expect, it } from 'vitest';
import { advance, canonicalJson, chainData, checkLink, eventHash, GENESIS, sealHash, startStream, type StoredEvent } from './audit-chain.js';

function chain(count: number): StoredEvent[] {
  const events: StoredEvent[] = [];
  let prev = GENESIS;
  for (let i = 1; i <= count; i++) {
    const content = {
      id: `00000000-0000-4000-8000-00000000000${i}`,
      stream: 'sample:x',
      seq: BigInt(i),
      occurredAt: new Date(Date.UTC(2026, 10, 23, 8, 0, i)).toISOString(),
      actorId: null,
      action: 'sample.adjust',
      entityType: 'sample',
      entityId: 'x',
      data: { i },
      requestId: null,
    };
    const hash = eventHash(prev, content);
    events.push({ ...content, prevHash: prev, hash });
    prev = hash;
  }
  return events;
}

function walk(events: StoredEvent[]) {
  let cursor = startStream('sample:x');
  for (const event of events) {
    const problem = checkLink(cursor, event);
    if (problem) return problem;
    cursor = advance(cursor, event);
  }
  return null;
}

describe('audit chain', () => {
  it('accepts an untouched chain', () => {
    expect(walk(chain(4))).toBeNull();
  });

  it('names an edited event, a gap, and a reordering by seq', () => {
    const edited = chain(4);
    edited[2] = { ...edited[2]!, data: { i: 30 } };
    expect(walk(edited)).toMatchObject({ kind: 'event', seq: 3n });

    const gap = chain(4);
    gap.splice(1, 1);
    expect(walk(gap)).toMatchObject({ kind: 'missing', seq: 2n });

    const swapped = chain(4);
    const [second, third] = [swapped[1]!, swapped[2]!];
    swapped[1] = { ...third, seq: 2n };
    swapped[2] = { ...second, seq: 3n };
    expect(walk(swapped)).toMatchObject({ kind: 'event', seq: 2n });
  });

  it('hashes content independent of key order, and what jsonb gives back hashes the same', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: null }] })).toBe('{"a":[1,{"c":null,"d":2}],"b":1}');
    const at = new Date('2026-11-23T08:00:00.123Z');
    expect(chainData({ at, skip: undefined, n: 1.5 })).toEqual({ at: '2026-11-23T08:00:00.123Z', n: 1.5 });
  });

  it('changes a seal hash when any head changes', () => {
    const heads = { 'sample:x': { seq: '4', hash: 'a'.repeat(64) } };
    const hash = sealHash(GENESIS, 1n, '2026-11-23T08:00:00.000Z', heads);
    expect(sealHash(GENESIS, 1n, '2026-11-23T08:00:00.000Z', { 'sample:x': { seq: '3', hash: 'a'.repeat(64) } })).not.toBe(hash);
    expect(sealHash(GENESIS, 2n, '2026-11-23T08:00:00.000Z', heads)).not.toBe(hash);
  });
});
