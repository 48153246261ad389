/**
 * Seals: a global hash chain over the per-stream heads. Each seal lists the
 * heads of the streams that moved since the previous seal, so an edit,
 * deletion or truncation of anything sealed shows even if the stream's own
 * chain was rewritten consistently. The sealer reads heads without locking
 * them and writes only its own tables: writers never wait for it.
 */
import { GENESIS, sealHash, type SealHeads } from '../../core/audit-chain.js';
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

/** Seals every stream head that moved since the last seal; answers the last seal written, or null when nothing moved. */
export async function sealAudit(db: DB, options: { headsPerSeal?: number } = {}): Promise<Seal | null> {
  const limit = options.headsPerSeal ?? HEADS_PER_SEAL;
  let last: Seal | null = null;
  // Bounded, so busy writers moving ever more streams cannot keep one call going; the next call carries on.
  for (let round = 0; round < MAX_SEALS_PER_CALL; round++) {
    const seal = await sealOnce(db, limit);
    if (!seal) return last;
    last = seal;
    if (seal.streams < limit) return last;
  }
  return last;
}

async function sealOnce(db: DB, limit: number, attempts = 5): Promise<Seal | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(db, async (tx) => {
        const changed = await auditRepository.changedStreams(tx, limit);
        if (changed.length === 0) return null;
        const previous = await auditRepository.lastSeal(tx);
        const seq = BigInt(previous?.seq ?? 0) + 1n;
        const sealedAt = new Date();
        const heads: SealHeads = Object.fromEntries(changed.map((h) => [h.stream, { seq: h.seq, hash: h.head_hash }]));
        const prevHash = previous?.hash ?? GENESIS;
        const hash = sealHash(prevHash, seq, sealedAt.toISOString(), heads);
        // The primary key on seq serialises concurrent sealers: the loser retries on top of the winner.
        await auditRepository.insertSeal(tx, { seq: seq.toString(), sealed_at: sealedAt, heads, prev_hash: prevHash, hash });
        await auditRepository.markSealed(tx, changed);
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

/** Seals every intervalMs while the server runs; a failed seal is logged and tried again at the next tick. */
export function startSealing(db: DB, logger: Logger, intervalMs: number): Sealer {
  let running: Promise<void> | null = null;
  const tick = (): Promise<void> => {
    running ??= sealAudit(db)
      .then((seal) => {
        if (seal) logger.debug({ seal: seal.seq.toString(), streams: seal.streams }, 'audit sealed');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'audit seal failed; will retry'))
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await tick();
    },
  };
}
