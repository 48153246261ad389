import { sql } from 'kysely';
import type { SealHeads } from '../../core/audit-chain.js';
import type { Executor, Tx } from '../../platform/db/tx.js';

export interface AuditEventRow {
  id: string;
  stream: string;
  seq: string;
  occurred_at: Date;
  actor_id: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  data: Record<string, unknown>;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface SealRow {
  seq: string;
  sealed_at: Date;
  heads: SealHeads;
  prev_hash: string;
  hash: string;
  key_id: string | null;
  signature: string | null;
}

export interface StreamHeadRow {
  stream: string;
  seq: string;
  head_hash: string;
}

/** A sealed or recorded head that the events do not bear out. */
export interface HeadMismatchRow {
  stream: string;
  seq: string;
  event_id: string | null;
  occurred_at: Date | null;
  seal_seq: string | null;
  sealed_at: Date | null;
}

export interface EventFilter {
  stream?: string | undefined;
  entityType?: string | undefined;
  entityId?: string | undefined;
  actorId?: string | undefined;
  action?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  after?: { occurredAt: Date; id: string } | undefined;
}

export const auditRepository = {
  /** Locks the stream head for this transaction (creating it on first use) and returns it. */
  async lockStreamHead(tx: Tx, stream: string, genesis: string): Promise<{ seq: bigint; headHash: string; headAt: Date | null }> {
    // Usually the head exists: one round trip. Only a new stream needs the insert first.
    const existing = await tx.selectFrom('audit_streams').select(['seq', 'head_hash', 'head_at']).where('stream', '=', stream).forUpdate().executeTakeFirst();
    if (existing) return { seq: BigInt(existing.seq), headHash: existing.head_hash, headAt: existing.head_at };
    await tx
      .insertInto('audit_streams')
      .values({ stream, seq: 0n, head_hash: genesis })
      .onConflict((oc) => oc.column('stream').doNothing())
      .execute();
    const row = await tx.selectFrom('audit_streams').select(['seq', 'head_hash', 'head_at']).where('stream', '=', stream).forUpdate().executeTakeFirstOrThrow();
    return { seq: BigInt(row.seq), headHash: row.head_hash, headAt: row.head_at };
  },

  /** The event and the moved head in one statement (one round trip while the head is locked). */
  async append(tx: Tx, row: AuditEventRow): Promise<void> {
    await tx
      .with('event', (db) => db.insertInto('audit_events').values({ ...row, data: JSON.stringify(row.data) }))
      .updateTable('audit_streams')
      .set({ seq: row.seq, head_hash: row.hash, head_at: row.occurred_at })
      .where('stream', '=', row.stream)
      .execute();
  },

  /** Stream heads that moved since the last seal, read without locks (writers never wait on the sealer). */
  changedStreams(tx: Tx, limit: number): Promise<StreamHeadRow[]> {
    return tx
      .selectFrom('audit_streams as s')
      .leftJoin('audit_sealed_streams as x', 'x.stream', 's.stream')
      .select(['s.stream', 's.seq', 's.head_hash'])
      .where('s.seq', '>', '0')
      .where((eb) => eb.or([eb('x.stream', 'is', null), eb('x.seq', '<>', eb.ref('s.seq'))]))
      .orderBy('s.stream')
      .limit(limit)
      .execute();
  },

  lastSeal(db: Executor): Promise<Pick<SealRow, 'seq' | 'hash' | 'sealed_at' | 'key_id' | 'signature'> | undefined> {
    return db.selectFrom('audit_seals').select(['seq', 'hash', 'sealed_at', 'key_id', 'signature']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  },

  seal(db: Executor, seq: bigint): Promise<SealRow | undefined> {
    return db.selectFrom('audit_seals').select(['seq', 'sealed_at', 'heads', 'prev_hash', 'hash', 'key_id', 'signature']).where('seq', '=', seq.toString()).executeTakeFirst() as Promise<SealRow | undefined>;
  },

  /** Seconds since the last seal by the database's clock (null before the first), for /metrics: the primary key finds it. */
  async lastSealAgeSeconds(db: Executor): Promise<number | null> {
    const row = await db
      .selectFrom('audit_seals')
      .select(sql<string>`greatest(0, extract(epoch from now() - sealed_at))`.as('age'))
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? Number(row.age) : null;
  },

  async insertSeal(tx: Tx, row: SealRow): Promise<void> {
    await tx
      .insertInto('audit_seals')
      .values({ ...row, heads: JSON.stringify(row.heads) })
      .execute();
  },

  async markSealed(tx: Tx, heads: StreamHeadRow[]): Promise<void> {
    await tx
      .insertInto('audit_sealed_streams')
      .values(heads.map((h) => ({ stream: h.stream, seq: h.seq, hash: h.head_hash })))
      .onConflict((oc) => oc.column('stream').doUpdateSet((eb) => ({ seq: eb.ref('excluded.seq'), hash: eb.ref('excluded.hash') })))
      .execute();
  },

  sealsPage(db: Executor, afterSeq: bigint, upTo: bigint, limit: number): Promise<SealRow[]> {
    return db
      .selectFrom('audit_seals')
      .select(['seq', 'sealed_at', 'heads', 'prev_hash', 'hash', 'key_id', 'signature'])
      .where('seq', '>', afterSeq.toString())
      .where('seq', '<=', upTo.toString())
      .orderBy('seq')
      .limit(limit)
      .execute() as Promise<SealRow[]>;
  },

  /** Events in (stream, seq) order after the given position: the walk the verifier takes. */
  eventsPage(db: Executor, after: { stream: string; seq: bigint } | null, limit: number): Promise<AuditEventRow[]> {
    let query = db.selectFrom('audit_events').selectAll().orderBy('stream').orderBy('seq').limit(limit);
    if (after) query = query.where((eb) => eb(eb.refTuple('stream', 'seq'), '>', eb.tuple(after.stream, after.seq.toString())));
    return query.execute() as Promise<AuditEventRow[]>;
  },

  /** Every stream head listed in a seal (up to upTo) whose event is gone or carries another hash: the first per stream. */
  async sealMismatches(db: Executor, upTo: bigint): Promise<HeadMismatchRow[]> {
    const result = await sql<HeadMismatchRow>`
      select distinct on (h.key) h.key as stream, (h.value ->> 'seq')::bigint as seq, e.id as event_id, e.occurred_at,
             s.seq as seal_seq, s.sealed_at
        from audit_seals s
       cross join lateral jsonb_each(s.heads) as h
        left join audit_events e on e.stream = h.key and e.seq = (h.value ->> 'seq')::bigint
       where s.seq <= ${upTo.toString()} and (e.id is null or e.hash <> h.value ->> 'hash')
       order by h.key, (h.value ->> 'seq')::bigint, s.seq`.execute(db);
    return result.rows;
  },

  /** Stream heads whose event is gone or carries another hash (one consistent snapshot: head and event commit together). */
  async headMismatches(db: Executor): Promise<HeadMismatchRow[]> {
    const result = await sql<HeadMismatchRow>`
      select st.stream, st.seq, e.id as event_id, e.occurred_at, null as seal_seq, null as sealed_at
        from audit_streams st
        left join audit_events e on e.stream = st.stream and e.seq = st.seq
       where st.seq > 0 and (e.id is null or e.hash <> st.head_hash)
       order by st.stream`.execute(db);
    return result.rows;
  },

  async countEvents(db: Executor): Promise<number> {
    const row = await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  },

  listEvents(db: Executor, filter: EventFilter, limit: number): Promise<AuditEventRow[]> {
    let query = db.selectFrom('audit_events').selectAll().orderBy('occurred_at').orderBy('id').limit(limit);
    if (filter.stream) query = query.where('stream', '=', filter.stream);
    if (filter.entityType) query = query.where('entity_type', '=', filter.entityType);
    if (filter.entityId) query = query.where('entity_id', '=', filter.entityId);
    if (filter.actorId) query = query.where('actor_id', '=', filter.actorId);
    if (filter.action) query = query.where('action', '=', filter.action);
    if (filter.from) query = query.where('occurred_at', '>=', filter.from);
    if (filter.to) query = query.where('occurred_at', '<', filter.to);
    const after = filter.after;
    if (after) query = query.where((eb) => eb(eb.refTuple('occurred_at', 'id'), '>', eb.tuple(after.occurredAt, after.id)));
    return query.execute() as Promise<AuditEventRow[]>;
  },
};
