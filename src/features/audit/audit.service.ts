import crypto from 'node:crypto';
import type { Actor } from '../../core/actor.js';
import { chainData, eventHash, GENESIS } from '../../core/audit-chain.js';
import { DomainError, invalid } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import type { DB } from '../../platform/db/database.js';
import type { Tx } from '../../platform/db/tx.js';
import type { Logger } from '../../platform/logger.js';
import { checkAnchor, makeAnchor, type AuditAnchor } from './audit.anchor.js';
import type { AuditKeys } from './audit.keys.js';
import { auditRepository, type AuditEventRow, type EventFilter } from './audit.repository.js';
import { sealAudit, startSealing } from './audit.seal.js';
import { verifyAudit, type Verification } from './audit.verify.js';

export interface AuditEntry {
  /** The chain this event joins: one aggregate, e.g. `sample:<rootId>` or `user:<id>`. */
  stream: string;
  action: string;
  entityType: string;
  entityId?: string | null;
  data?: Record<string, unknown>;
}

/** A stream head the caller has already locked (FOR UPDATE) in this transaction. */
export interface LockedHead {
  seq: bigint;
  headHash: string;
  /** When the stream's newest event happened, when the caller read it. */
  headAt?: Date | null;
}

/**
 * Records an audit event inside the caller's transaction, so the event exists
 * exactly when the change does. Only the stream's head row is locked: writes
 * to other streams proceed in parallel. A caller that locked the head in its
 * own statement passes it and saves the round trip.
 */
export async function recordAudit(tx: Tx, actor: Actor, entry: AuditEntry, locked?: LockedHead): Promise<string> {
  const head = locked ?? (await auditRepository.lockStreamHead(tx, entry.stream, GENESIS));
  const seq = head.seq + 1n;
  // Never before the event it follows (the database refuses that): another server's clock may run a little ahead.
  const occurredAt = new Date(Math.max(Date.now(), head.headAt?.getTime() ?? 0));
  const event = {
    id: crypto.randomUUID(),
    stream: entry.stream,
    seq,
    occurredAt: occurredAt.toISOString(),
    actorId: actor.userId,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId ?? null,
    data: chainData(entry.data),
    requestId: actor.requestId ?? null,
  };
  const hash = eventHash(head.headHash, event);
  await auditRepository.append(tx, {
    id: event.id,
    stream: event.stream,
    seq: seq.toString(),
    occurred_at: occurredAt,
    actor_id: event.actorId,
    action: event.action,
    entity_type: event.entityType,
    entity_id: event.entityId,
    data: event.data,
    request_id: event.requestId,
    prev_hash: head.headHash,
    hash,
  });
  return event.id;
}

export interface AuditEvent {
  id: string;
  stream: string;
  seq: number;
  occurredAt: Date;
  actorId: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  data: Record<string, unknown>;
  requestId: string | null;
  prevHash: string;
  hash: string;
}

export interface EventQuery extends Omit<EventFilter, 'after'> {
  limit: number;
  cursor?: string | undefined;
}

function toEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    stream: row.stream,
    seq: Number(row.seq),
    occurredAt: row.occurred_at,
    actorId: row.actor_id,
    action: row.action,
    entityType: row.entity_type,
    entityId: row.entity_id,
    data: row.data,
    requestId: row.request_id,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The cursor is the (occurred_at, id) of the last event answered, opaque to clients. */
function encodeCursor(event: AuditEvent): string {
  return Buffer.from(`${event.occurredAt.toISOString()}|${event.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { occurredAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const occurredAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(occurredAt.getTime())) throw invalid('cursor', 'is not a cursor this list gave out');
  return { occurredAt, id };
}

export type AuditService = ReturnType<typeof createAuditService>;

export function createAuditService(db: DB, logger: Logger, keys: AuditKeys) {
  /** The key file is read (or created, noting the newest seal so far) before the first seal or check. */
  const ready = () => keys.load(async () => BigInt((await auditRepository.lastSeal(db))?.seq ?? 0));
  /** Seals what moved, signed; a trail whose newest seal is unsigned (written before signing) gets a signed seal on top. */
  const seal = async (options: { headsPerSeal?: number } = {}) => {
    await ready();
    return sealAudit(db, { ...options, signer: keys.signer(), signOnTop: true });
  };
  return {
    seal,

    startSealing: (intervalMs: number) => startSealing(() => seal(), logger, intervalMs),

    /** The signing key's public key (PEM), to keep beside the anchors. */
    async publicKey(): Promise<string> {
      await ready();
      return keys.publicKeyPem();
    },

    /** Seals what is pending, then verifies every chain, the seals and their signatures (and, given one, the anchor). */
    async verify(actor: Actor | null, options: { anchor?: AuditAnchor } = {}): Promise<Verification> {
      authorize(actor, 'audit.verify');
      const anchor = options.anchor ? checkAnchor(options.anchor) : undefined;
      await seal();
      const result = await verifyAudit(db, { keys: keys.trusted(), unsignedUpTo: keys.unsignedUpTo(), anchor });
      if (!result.ok) logger.error({ firstBad: result.firstBad }, 'the audit trail failed verification');
      return result;
    },

    /** The newest seal, signed, to keep outside the database (samplebank audit anchor). */
    async anchor(actor: Actor | null): Promise<AuditAnchor> {
      authorize(actor, 'audit.verify');
      await seal();
      const last = await auditRepository.lastSeal(db);
      if (!last) throw new DomainError('conflict', 'The audit trail has no seal yet: nothing has been recorded to anchor');
      if (!last.signature || !last.key_id) throw new DomainError('conflict', 'The newest seal is not signed; verify the trail first');
      const key = keys.trusted().get(last.key_id);
      if (!key) throw new DomainError('conflict', `The newest seal is signed by key ${last.key_id}, which this server does not hold`);
      return makeAnchor({ seq: last.seq, hash: last.hash, sealed_at: last.sealed_at, key_id: last.key_id, signature: last.signature }, key.publicKey, await auditRepository.countEvents(db));
    },

    async listEvents(actor: Actor | null, query: EventQuery): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
      authorize(actor, 'audit.read');
      const { limit, cursor, ...filter } = query;
      const rows = await auditRepository.listEvents(db, { ...filter, after: cursor ? decodeCursor(cursor) : undefined }, limit + 1);
      const items = rows.slice(0, limit).map(toEvent);
      return { items, nextCursor: rows.length > limit ? encodeCursor(items.at(-1)!) : null };
    },
  };
}
