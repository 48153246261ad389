import { describe, expect, it } from 'vitest';
import type { Actor } from '../../core/actor.js';
import { createTokenCache } from './token-cache.js';

const curator: Actor = { userId: '00000000-0000-4000-8000-000000000001', institutionId: null, roles: ['curator'] };

describe('token cache', () => {
  it('remembers a token for the time to live and no longer', () => {
    let now = 1_000;
    const cache = createTokenCache({ ttlMs: 5_000, now: () => now });
    cache.set('h1', curator, null);
    expect(cache.get('h1')).toEqual(curator);
    now += 4_999;
    expect(cache.get('h1')).toEqual(curator);
    now += 1;
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never outlives the token itself', () => {
    let now = 1_000;
    const cache = createTokenCache({ ttlMs: 60_000, now: () => now });
    cache.set('h1', curator, new Date(3_000));
    now = 2_999;
    expect(cache.get('h1')).toBeDefined();
    now = 3_000;
    expect(cache.get('h1')).toBeUndefined();
    cache.set('expired', curator, new Date(2_000));
    expect(cache.get('expired')).toBeUndefined();
  });

  it('forgets a signed-out token at once, and everything on clear', () => {
    const cache = createTokenCache({ ttlMs: 60_000 });
    cache.set('h1', curator, null);
    cache.set('h2', curator, null);
    cache.forget('h1');
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.get('h2')).toBeDefined();
    cache.clear();
    expect(cache.get('h2')).toBeUndefined();
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const cache = createTokenCache({ ttlMs: 60_000, maxEntries: 3 });
    for (const h of ['a', 'b', 'c', 'd']) cache.set(h, curator, null);
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('d')).toBeDefined();
  });

  it('is off with a time to live of 0', () => {
    const cache = createTokenCache({ ttlMs: 0 });
    cache.set('h1', curator, null);
    expect(cache.get('h1')).toBeUndefined();
  });

  it('hands out a copy whose roles a caller cannot change for the next request', () => {
    const cache = createTokenCache({ ttlMs: 60_000 });
    const actor: Actor = { ...curator, roles: ['curator'] };
    cache.set('h1', actor, null);
    (actor.roles as string[]).push('admin');
    expect(cache.get('h1')?.roles).toEqual(['curator']);
  });
});
