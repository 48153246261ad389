/**
 * Seals: a global hash chain over the per-stream heads. Each seal lists the
 * heads of the streams that moved since the previous seal, so an edit,
 * deletion or truncation of anything sealed shows even if the stream's own
 * chain was rewritten consistently. The sealer reads heads without locking
 * them and writes only its own tables: writers never wait for it.
 */
import { GENESIS, sealHash, type SealHeads, type SealSigner } from '../../core/audit-chain.js';
import type { DB } from '../../platform/db/database.js';
import { inTransaction, isUniqueViolation } from '../../platform/db/tx.js';
import type { Logger } from '../../platform/logger.js';
import { auditRepository } from './audit.repository.js';

/** Heads per seal row, so one seal stays a few hundred kilobytes however many streams moved. */
export const HEADS_PER_SEAL = 2000;
const MAX_SEALS_PER_CALL = 100;

export interface Seal {
  seq: bigint;
  hash: string;
  streams: number;
}

export interface SealOptions {
  headsPerSeal?: number;
  /** Signs each seal (the service always passes its key; bare calls in tests may not). */
  signer?: SealSigner | undefined;
  /**
   * Write a seal even when no stream moved, if the newest seal is unsigned: a
   * trail written before seals were signed gets a signed seal on top that pins
   * all of it, so from then on the newest seal is always signed.
   */
  signOnTop?: boolean;
}

/** Seals every stream head that moved since the last seal; answers the last seal written, or null when nothing moved. */
export async function sealAudit(db: DB, options: SealOptions = {}): Promise<Seal | null> {
  const limit = options.headsPerSeal ?? HEADS_PER_SEAL;
  let last: Seal | null = null;
  // Bounded, so busy writers moving ever more streams cannot keep one call going; the next call carries on.
  for (let round = 0; round < MAX_SEALS_PER_CALL; round++) {
    const seal = await sealOnce(db, limit, options.signer, round === 0 && options.signOnTop === true);
    if (!seal) return last;
    last = seal;
    if (seal.streams < limit) return last;
  }
  return last;
}

async function sealOnce(db: DB, limit: number, signer: SealSigner | undefined, signOnTop: boolean, attempts = 5): Promise<Seal | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(db, async (tx) => {
        const changed = await auditRepository.changedStreams(tx, limit);
        const previous = await auditRepository.lastSeal(tx);
        const unsignedOnTop = signer !== undefined && signOnTop && previous !== undefined && previous.signature === null;
        if (changed.length === 0 && !unsignedOnTop) return null;
        const seq = BigInt(previous?.seq ?? 0) + 1n;
        // Never before the seal it follows, even when this server's clock is a little behind another's.
        const sealedAt = new Date(Math.max(Date.now(), previous?.sealed_at.getTime() ?? 0));
        const heads: SealHeads = Object.fromEntries(changed.map((h) => [h.stream, { seq: h.seq, hash: h.head_hash }]));
        const prevHash = previous?.hash ?? GENESIS;
        const hash = sealHash(prevHash, seq, sealedAt.toISOString(), heads);
        // The primary key on seq serialises concurrent sealers: the loser retries on top of the winner.
        await auditRepository.insertSeal(tx, { seq: seq.toString(), sealed_at: sealedAt, heads, prev_hash: prevHash, hash, key_id: signer?.keyId ?? null, signature: signer?.sign(hash) ?? null });
        if (changed.length > 0) await auditRepository.markSealed(tx, changed);
        return { seq, hash, streams: changed.length };
      });
    } catch (error) {
      if (attempt >= attempts || !isUniqueViolation(error)) throw error;
    }
  }
}

export interface Sealer {
  /** Stops the timer, waits for a seal in progress and seals once more, so nothing recorded before shutdown stays unsealed. */
  stop(): Promise<void>;
}

/** Runs `seal` every intervalMs while the server runs, and once at start; a failed seal is logged and tried again at the next tick. */
export function startSealing(seal: () => Promise<Seal | null>, logger: Logger, intervalMs: number): Sealer {
  let running: Promise<void> | null = null;
  const tick = (): Promise<void> => {
    running ??= seal()
      .then((sealed) => {
        if (sealed) logger.debug({ seal: sealed.seq.toString(), streams: sealed.streams }, 'audit sealed');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'audit seal failed; will retry'))
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  // At once: a trail from before seals were signed gets its signed seal on top now, not a minute later.
  void tick();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await tick();
    },
  };
}
