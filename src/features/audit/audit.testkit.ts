/**
 * What the database's owner can do to the audit trail, for the tests that
 * prove verification catches it.
 */
import { sql } from 'kysely';
import { eventHash, GENESIS, sealHash, type SealHeads, type SealSigner } from '../../core/audit-chain.js';
import type { DB } from '../../platform/db/database.js';
import type { Tx } from '../../platform/db/tx.js';
import type { AuditEventRow, SealRow } from './audit.repository.js';
import { toStored } from './audit.verify.js';

/** The database owner's power: the append-only triggers off for one transaction. */
export async function asOwner(db: DB, fn: (tx: Tx) => Promise<unknown>): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await sql`set local session_replication_role = replica`.execute(tx);
    await fn(tx);
  });
}

/**
 * Edits the stream's first event, recomputes the stream's hashes and head, then
 * recomputes every seal from the first on, signing each with `resign` (a stolen
 * or a forged key), keeping the old signatures, or removing them.
 */
export async function rewriteHistory(db: DB, stream: string, signatures: { resign: SealSigner } | 'keep' | 'strip'): Promise<void> {
  await asOwner(db, async (tx) => {
    const events = (await tx.selectFrom('audit_events').selectAll().where('stream', '=', stream).orderBy('seq').execute()) as AuditEventRow[];
    await tx.updateTable('audit_events').set({ data: JSON.stringify({ step: 1, grams: '9.9000' }) }).where('id', '=', events[0]!.id).execute();
    const edited = (await tx.selectFrom('audit_events').selectAll().where('stream', '=', stream).orderBy('seq').execute()) as AuditEventRow[];
    let prev = GENESIS;
    const newHash = new Map<string, string>();
    for (const row of edited) {
      const hash = eventHash(prev, toStored(row));
      await tx.updateTable('audit_events').set({ prev_hash: prev, hash }).where('id', '=', row.id).execute();
      newHash.set(row.seq, hash);
      prev = hash;
    }
    await tx.updateTable('audit_streams').set({ head_hash: prev }).where('stream', '=', stream).execute();
    await tx.updateTable('audit_sealed_streams').set({ hash: prev }).where('stream', '=', stream).execute();
    const seals = (await tx.selectFrom('audit_seals').selectAll().orderBy('seq').execute()) as SealRow[];
    let prevSeal = GENESIS;
    for (const seal of seals) {
      const heads: SealHeads = { ...seal.heads };
      const head = heads[stream];
      if (head) heads[stream] = { seq: head.seq, hash: newHash.get(head.seq)! };
      const hash = sealHash(prevSeal, BigInt(seal.seq), seal.sealed_at.toISOString(), heads);
      const signed =
        signatures === 'keep' ? {} : signatures === 'strip' ? { key_id: null, signature: null } : { key_id: signatures.resign.keyId, signature: signatures.resign.sign(hash) };
      await tx.updateTable('audit_seals').set({ heads: JSON.stringify(heads), prev_hash: prevSeal, hash, ...signed }).where('seq', '=', seal.seq).execute();
      prevSeal = hash;
    }
  });
}
