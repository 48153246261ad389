import type { Actor } from '../../core/actor.js';

/**
 * Who a bearer token or session cookie belongs to, remembered for a few
 * seconds so that a busy client does not pay a database round trip per
 * request for the same answer (a sixth of a reservation's round trips).
 *
 * Freshness: this process forgets a token the moment it signs it out or
 * revokes it (`forget`, `clear`); another process serving the same database
 * honours a token revoked elsewhere for at most `ttlMs` more. An entry never
 * outlives the token's own expiry. `ttlMs` 0 turns the cache off.
 */
export interface TokenCache {
  get(tokenHash: string): Actor | undefined;
  set(tokenHash: string, actor: Actor, tokenExpiresAt: Date | null): void;
  forget(tokenHash: string): void;
  clear(): void;
  readonly size: number;
}

export function createTokenCache(options: { ttlMs: number; maxEntries?: number; now?: () => number }): TokenCache {
  const { ttlMs, maxEntries = 10_000, now = Date.now } = options;
  const entries = new Map<string, { actor: Actor; until: number }>();
  return {
    get(tokenHash) {
      const entry = entries.get(tokenHash);
      if (!entry) return undefined;
      if (entry.until <= now()) {
        entries.delete(tokenHash);
        return undefined;
      }
      return entry.actor;
    },
    set(tokenHash, actor, tokenExpiresAt) {
      if (ttlMs <= 0) return;
      const until = Math.min(now() + ttlMs, tokenExpiresAt ? tokenExpiresAt.getTime() : Number.POSITIVE_INFINITY);
      if (until <= now()) return;
      entries.delete(tokenHash);
      // Oldest first out: a Map iterates in insertion order.
      while (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(tokenHash, { actor: { ...actor, roles: [...actor.roles] }, until });
    },
    forget(tokenHash) {
      entries.delete(tokenHash);
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
