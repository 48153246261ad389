import crypto from 'node:crypto';
import type { Actor } from '../../core/actor.js';
import { chainData, eventHash, GENESIS } from '../../core/audit-chain.js';
import { invalid } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import type { DB } from '../../platform/db/database.js';
import type { Tx } from '../../platform/db/tx.js';
import type { Logger } from '../../platform/logger.js';
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
  const occurredAt = new Date();
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

export function createAuditService(db: DB, logger: Logger) {
  return {
    /** Seals the heads that moved; the server also does this on a timer. */
    seal: () => sealAudit(db),

    startSealing: (intervalMs: number) => startSealing(db, logger, intervalMs),

    /** Seals what is pending, then verifies every chain and the seals. */
    async verify(actor: Actor | null): Promise<Verification> {
      authorize(actor, 'audit.verify');
      await sealAudit(db);
      const result = await verifyAudit(db);
      if (!result.ok) logger.error({ firstBad: result.firstBad }, 'the audit trail failed verification');
      return result;
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
