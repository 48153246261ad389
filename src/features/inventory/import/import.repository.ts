import { sql } from 'kysely';
import { copyRows, copyText, type CopyText } from '../../../platform/db/copy.js';
import type { Executor, Tx } from '../../../platform/db/tx.js';

export interface CollectionRow {
  id: string;
  code: string;
  unit: string;
  scale: number;
  kinds: string[];
  human_consent: boolean;
}

/** What each imported row adds; what is the same for the whole import travels once per batch (ImportBatch). */
export interface SampleInsert {
  id: string;
  identifier: string;
  kind: string;
  quantity: string;
  parent_id: string | null;
  root_id: string;
  location_id: string | null;
  attributes: Record<string, string>;
}

export interface AuditInsert {
  id: string;
  seq: string;
  occurred_at: string;
  entity_id: string;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface ImportBatch {
  collectionId: string;
  stream: string;
  actorId: string | null;
  requestId: string | null;
  /** The reason on every 'create' movement. */
  reason: string;
  samples: SampleInsert[];
  /** One 'create' movement per sample, same order. */
  movementIds: string[];
  events: AuditInsert[];
}

/** The columns of prepareBatch's rows, in their order. */
const SAMPLE_COLUMNS = ['id', 'collection_id', 'identifier', 'kind', 'quantity', 'parent_id', 'root_id', 'location_id', 'attributes'] as const;
const MOVEMENT_COLUMNS = ['id', 'sample_id', 'root_id', 'kind', 'delta', 'reserved_delta', 'quantity_after', 'reserved_after', 'state_after', 'reason', 'actor_id', 'request_id'] as const;
const EVENT_COLUMNS = ['id', 'stream', 'seq', 'occurred_at', 'actor_id', 'action', 'entity_type', 'entity_id', 'data', 'request_id', 'prev_hash', 'hash'] as const;

/** An ImportBatch encoded for COPY (prepareBatch). */
export interface PreparedBatch {
  rows: number;
  samples: CopyText;
  movements: CopyText;
  events: CopyText;
}

/**
 * Batches are written with COPY (platform/db/copy.ts), the same on PGlite and
 * PostgreSQL; the look-ups send their lists as one JSON parameter, so there is
 * no limit on bind parameters.
 */
export const importRepository = {
  async findCollection(db: Executor, by: { id?: string; code?: string }): Promise<CollectionRow | undefined> {
    let query = db.selectFrom('collections').select(['id', 'code', 'unit', 'scale', 'kinds', 'human_consent']);
    if (by.id) query = query.where('id', '=', by.id);
    else query = query.where('code', '=', by.code ?? '');
    return query.executeTakeFirst();
  },

  async existingIdentifiers(db: Executor, identifiers: string[]): Promise<Set<string>> {
    if (identifiers.length === 0) return new Set();
    const rows = await sql<{ identifier: string }>`select identifier from samples where identifier in (select json_array_elements_text(${JSON.stringify(identifiers)}::json))`.execute(db);
    return new Set(rows.rows.map((r) => r.identifier));
  },

  async samplesByIdentifier(db: Executor, identifiers: string[]): Promise<Array<{ id: string; identifier: string; root_id: string; collection_id: string; state: string; consent_withdrawn: boolean }>> {
    if (identifiers.length === 0) return [];
    const rows = await sql<{ id: string; identifier: string; root_id: string; collection_id: string; state: string; consent_withdrawn: boolean }>`
      select id, identifier, root_id, collection_id, state, consent_withdrawn from samples where identifier in (select json_array_elements_text(${JSON.stringify(identifiers)}::json))`.execute(db);
    return rows.rows;
  },

  async locationsByCode(db: Executor, code: string): Promise<Array<{ id: string; parent_id: string | null }>> {
    return db.selectFrom('locations').select(['id', 'parent_id']).where('code', '=', code).execute();
  },

  async childLocation(db: Executor, parentId: string | null, code: string): Promise<string | undefined> {
    let query = db.selectFrom('locations').select('id').where('code', '=', code);
    query = parentId === null ? query.where('parent_id', 'is', null) : query.where('parent_id', '=', parentId);
    return (await query.executeTakeFirst())?.id;
  },

  /**
   * A batch's rows as COPY text for the three tables: done while the previous
   * batch is being written, so the database never waits for the encoding.
   */
  prepareBatch(b: ImportBatch): PreparedBatch {
    return {
      rows: b.samples.length,
      samples: copyText(b.samples.map((s) => [s.id, b.collectionId, s.identifier, s.kind, s.quantity, s.parent_id, s.root_id, s.location_id, s.attributes])),
      movements: copyText(b.samples.map((s, i) => [b.movementIds[i]!, s.id, s.root_id, 'create', s.quantity, '0', s.quantity, '0', 'available', b.reason, b.actorId, b.requestId])),
      events: copyText(b.events.map((e) => [e.id, b.stream, e.seq, e.occurred_at, b.actorId, 'sample.import', 'sample', e.entity_id, e.data, b.requestId, e.prev_hash, e.hash])),
    };
  },

  /** Prepared batches of samples, their 'create' movements and their audit events: one COPY per table for all of them. */
  async insertBatch(tx: Tx, parts: PreparedBatch[]): Promise<void> {
    if (parts.every((p) => p.rows === 0)) return;
    const joined = (text: (p: PreparedBatch) => CopyText): CopyText => ({ chunks: parts.flatMap((p) => text(p).chunks), rows: parts.reduce((n, p) => n + p.rows, 0) });
    await copyRows(tx, 'samples', SAMPLE_COLUMNS, joined((p) => p.samples));
    await copyRows(tx, 'movements', MOVEMENT_COLUMNS, joined((p) => p.movements));
    await copyRows(tx, 'audit_events', EVENT_COLUMNS, joined((p) => p.events));
  },

  async setStreamHead(tx: Tx, stream: string, seq: bigint, hash: string): Promise<void> {
    await tx.updateTable('audit_streams').set({ seq, head_hash: hash }).where('stream', '=', stream).execute();
  },
};
