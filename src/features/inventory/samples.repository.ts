/**
 * The SQL of the sample ledger: samples, reservations and movements. Quantities
 * travel as strings to the database and come back as bigint; never numbers.
 */
import { sql } from 'kysely';
import type { SampleState } from '../../core/ledger.js';
import type { Executor, Tx } from '../../platform/db/tx.js';
import type { MovementKind } from '../../platform/db/schema.js';

export interface SampleRow {
  id: string;
  collection_id: string;
  identifier: string;
  kind: string;
  quantity: bigint;
  reserved: bigint;
  state: SampleState;
  parent_id: string | null;
  root_id: string;
  next_split: number;
  location_id: string | null;
  position: string | null;
  attributes: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

export interface ReservationRow {
  id: string;
  sample_id: string;
  quantity: bigint;
  application_id: string | null;
  note: string | null;
  state: 'active' | 'released' | 'fulfilled';
  created_by: string | null;
  created_at: Date;
  closed_at: Date | null;
}

export interface MovementRow {
  id: string;
  sample_id: string;
  root_id: string;
  kind: MovementKind;
  delta: bigint;
  reserved_delta: bigint;
  quantity_after: bigint;
  reserved_after: bigint;
  counterpart_id: string | null;
  reservation_id: string | null;
  state_after: SampleState;
  reason: string | null;
  actor_id: string | null;
  request_id: string | null;
  occurred_at: Date;
  seq: bigint;
}

export interface MovementInsert {
  id: string;
  sample_id: string;
  root_id: string;
  kind: MovementKind;
  delta: bigint;
  reserved_delta: bigint;
  quantity_after: bigint;
  reserved_after: bigint;
  state_after: SampleState;
  counterpart_id?: string | null;
  reservation_id?: string | null;
  reason?: string | null;
  actor_id: string | null;
  request_id: string | null;
}

export interface SampleInsert {
  id: string;
  collection_id: string;
  identifier: string;
  kind: string;
  quantity: bigint;
  state: SampleState;
  parent_id: string | null;
  root_id: string;
  location_id: string | null;
  position: string | null;
  attributes: Record<string, unknown>;
}

export interface SampleFilter {
  collectionId?: string | undefined;
  kind?: string | undefined;
  state?: SampleState | undefined;
  locationId?: string | undefined;
  /** Identifier prefix. */
  q?: string | undefined;
  after?: { identifier: string; id: string } | undefined;
  limit: number;
}

const sampleColumns = [
  'id',
  'collection_id',
  'identifier',
  'kind',
  'quantity',
  'reserved',
  'state',
  'parent_id',
  'root_id',
  'next_split',
  'location_id',
  'position',
  'attributes',
  'created_at',
  'updated_at',
] as const;
const sampleColumnList = sql.raw(sampleColumns.join(', '));

type RawSample = Omit<SampleRow, 'quantity' | 'reserved' | 'created_at' | 'updated_at' | 'next_split'> & {
  quantity: string | bigint;
  reserved: string | bigint;
  next_split: number | string;
  created_at: Date | string;
  updated_at: Date | string;
};

export function toSampleRow(raw: RawSample): SampleRow {
  return {
    ...raw,
    quantity: BigInt(raw.quantity),
    reserved: BigInt(raw.reserved),
    next_split: Number(raw.next_split),
    attributes: typeof raw.attributes === 'string' ? (JSON.parse(raw.attributes) as Record<string, unknown>) : raw.attributes,
    created_at: new Date(raw.created_at),
    updated_at: new Date(raw.updated_at),
  };
}

type RawReservation = Omit<ReservationRow, 'quantity'> & { quantity: string | bigint };
const toReservationRow = (raw: RawReservation): ReservationRow => ({ ...raw, quantity: BigInt(raw.quantity) });
const reservationColumns = ['id', 'sample_id', 'quantity', 'application_id', 'note', 'state', 'created_by', 'created_at', 'closed_at'] as const;

/** `like` prefix with the pattern characters escaped. */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export const samplesRepository = {
  async find(db: Executor, id: string): Promise<SampleRow | undefined> {
    const row = await db.selectFrom('samples').select(sampleColumns).where('id', '=', id).executeTakeFirst();
    return row ? toSampleRow(row as RawSample) : undefined;
  },

  async findMany(db: Executor, ids: string[]): Promise<SampleRow[]> {
    if (ids.length === 0) return [];
    const rows = await db.selectFrom('samples').select(sampleColumns).where('id', 'in', ids).execute();
    return rows.map((r) => toSampleRow(r as RawSample));
  },

  async findByIdentifier(db: Executor, identifier: string): Promise<SampleRow | undefined> {
    const row = await db.selectFrom('samples').select(sampleColumns).where('identifier', '=', identifier).executeTakeFirst();
    return row ? toSampleRow(row as RawSample) : undefined;
  },

  async identifierExists(db: Executor, identifier: string): Promise<boolean> {
    return (await db.selectFrom('samples').select('id').where('identifier', '=', identifier).executeTakeFirst()) !== undefined;
  },

  /** Whether the sample's donor withdrew consent (the flag migrations/0040 keeps on every sample of the lineage). */
  async consentWithdrawn(db: Executor, id: string): Promise<boolean> {
    const row = await db.selectFrom('samples').select('consent_withdrawn').where('id', '=', id).executeTakeFirst();
    return row?.consent_withdrawn ?? false;
  },

  /** The row, locked until the transaction ends. */
  async lock(tx: Tx, id: string): Promise<SampleRow | undefined> {
    const row = await tx.selectFrom('samples').select(sampleColumns).where('id', '=', id).forUpdate().executeTakeFirst();
    return row ? toSampleRow(row as RawSample) : undefined;
  },

  async insert(tx: Tx, row: SampleInsert): Promise<SampleRow> {
    const inserted = await tx
      .insertInto('samples')
      .values({ ...row, quantity: row.quantity.toString(), reserved: '0', attributes: JSON.stringify(row.attributes) })
      .returning(sampleColumns)
      .executeTakeFirstOrThrow();
    return toSampleRow(inserted as RawSample);
  },

  /** Writes the sample's new counters, state and place (the caller holds its lock). */
  async update(
    tx: Tx,
    id: string,
    values: { quantity?: bigint; reserved?: bigint; state?: SampleState; location_id?: string | null; position?: string | null },
  ): Promise<SampleRow> {
    const set: Record<string, unknown> = { updated_at: sql`now()` };
    if (values.quantity !== undefined) set.quantity = values.quantity.toString();
    if (values.reserved !== undefined) set.reserved = values.reserved.toString();
    if (values.state !== undefined) set.state = values.state;
    if (values.location_id !== undefined) set.location_id = values.location_id;
    if (values.position !== undefined) set.position = values.position;
    const row = await tx.updateTable('samples').set(set).where('id', '=', id).returning(sampleColumns).executeTakeFirstOrThrow();
    return toSampleRow(row as RawSample);
  },

  /**
   * Reserves q only if that much is unreserved and the sample is on the
   * shelf: one conditional statement, so concurrent reservations queue on the
   * row and re-check the condition, and never over-commit. The states are a
   * plain IN list, not a subquery: PostgreSQL re-checks a concurrently
   * updated row against the subquery rows it first joined, which wrongly
   * refused a sample that had just gone from available to reserved.
   */
  async reserveIfAvailable(tx: Tx, id: string, quantity: bigint, states: readonly SampleState[]): Promise<SampleRow | undefined> {
    const q = quantity.toString();
    const rows = await sql<RawSample>`
      update samples
      set reserved = reserved + ${q}::bigint,
          state = case when state = 'available' then 'reserved' else state end,
          updated_at = now()
      where id = ${id} and quantity - reserved >= ${q}::bigint and not consent_withdrawn
        and state in (${sql.join(states.map((state) => sql`${state}`))})
      returning ${sampleColumnList}`.execute(tx);
    const row = rows.rows[0];
    return row ? toSampleRow(row) : undefined;
  },

  /**
   * The whole reservation in one statement: the conditional update (as in
   * reserveIfAvailable), the reservation row, the 'reserve' movement and the
   * lineage's audit stream head locked. Nothing is written when the condition
   * fails (undefined). `head` is undefined when the lineage has no audit
   * stream yet (the caller creates it).
   */
  async reserveWithEntries(
    tx: Tx,
    input: { sampleId: string; quantity: bigint; states: readonly SampleState[]; reservationId: string; movementId: string; applicationId: string | null; note: string | null; actorId: string | null; requestId: string | null },
  ): Promise<{ sample: SampleRow; reservation: ReservationRow; head: { seq: bigint; headHash: string; headAt: Date | null } | undefined } | undefined> {
    const q = input.quantity.toString();
    const rows = await sql<RawSample & { r_created_at: Date | string; h_seq: string | null; h_hash: string | null; h_at: Date | string | null }>`
      with s as (
        update samples
        set reserved = reserved + ${q}::bigint,
            state = case when state = 'available' then 'reserved' else state end,
            updated_at = now()
        where id = ${input.sampleId} and quantity - reserved >= ${q}::bigint and not consent_withdrawn
          and state in (${sql.join(input.states.map((state) => sql`${state}`))})
        returning ${sampleColumnList}
      ), r as (
        insert into reservations (id, sample_id, quantity, application_id, note, created_by)
        select ${input.reservationId}::uuid, s.id, ${q}::bigint, ${input.applicationId}::uuid, ${input.note}, ${input.actorId}::uuid from s
        returning created_at
      ), m as (
        insert into movements (id, sample_id, root_id, kind, delta, reserved_delta, quantity_after, reserved_after, state_after, reservation_id, reason, actor_id, request_id)
        select ${input.movementId}::uuid, s.id, s.root_id, 'reserve', 0, ${q}::bigint, s.quantity, s.reserved, s.state, ${input.reservationId}::uuid, ${input.note}, ${input.actorId}::uuid, ${input.requestId} from s
      ), h as (
        select seq, head_hash, head_at from audit_streams where stream = (select 'sample:' || s.root_id::text from s) for update
      )
      select s.*, r.created_at as r_created_at, h.seq as h_seq, h.head_hash as h_hash, h.head_at as h_at from s cross join r left join h on true`.execute(tx);
    const row = rows.rows[0];
    if (!row) return undefined;
    const { r_created_at: createdAt, h_seq: headSeq, h_hash: headHash, h_at: headAt, ...raw } = row;
    return {
      sample: toSampleRow(raw),
      reservation: {
        id: input.reservationId,
        sample_id: input.sampleId,
        quantity: input.quantity,
        application_id: input.applicationId,
        note: input.note,
        state: 'active',
        created_by: input.actorId,
        created_at: new Date(createdAt),
        closed_at: null,
      },
      head: headSeq === null || headHash === null ? undefined : { seq: BigInt(headSeq), headHash, headAt: headAt === null ? null : new Date(headAt) },
    };
  },

  /** Takes the next split number of a root (locking the root row). */
  async takeSplitNumber(tx: Tx, rootId: string): Promise<{ identifier: string; n: number }> {
    const row = await tx
      .updateTable('samples')
      .set({ next_split: sql`next_split + 1` })
      .where('id', '=', rootId)
      .returning(['identifier', sql<number>`next_split - 1`.as('n')])
      .executeTakeFirstOrThrow();
    return { identifier: row.identifier, n: Number(row.n) };
  },

  async insertMovements(tx: Tx, rows: MovementInsert[]): Promise<void> {
    if (rows.length === 0) return;
    await tx
      .insertInto('movements')
      .values(
        rows.map((m) => ({
          id: m.id,
          sample_id: m.sample_id,
          root_id: m.root_id,
          kind: m.kind,
          delta: m.delta.toString(),
          reserved_delta: m.reserved_delta.toString(),
          quantity_after: m.quantity_after.toString(),
          reserved_after: m.reserved_after.toString(),
          state_after: m.state_after,
          counterpart_id: m.counterpart_id ?? null,
          reservation_id: m.reservation_id ?? null,
          reason: m.reason ?? null,
          actor_id: m.actor_id,
          request_id: m.request_id,
        })),
      )
      .execute();
  },

  async insertReservation(tx: Tx, row: { id: string; sample_id: string; quantity: bigint; application_id: string | null; note: string | null; created_by: string | null }): Promise<ReservationRow> {
    const inserted = await tx
      .insertInto('reservations')
      .values({ ...row, quantity: row.quantity.toString() })
      .returning(reservationColumns)
      .executeTakeFirstOrThrow();
    return toReservationRow(inserted as RawReservation);
  },

  async findReservation(db: Executor, id: string): Promise<ReservationRow | undefined> {
    const row = await db.selectFrom('reservations').select(reservationColumns).where('id', '=', id).executeTakeFirst();
    return row ? toReservationRow(row as RawReservation) : undefined;
  },

  async lockReservation(tx: Tx, id: string): Promise<ReservationRow | undefined> {
    const row = await tx.selectFrom('reservations').select(reservationColumns).where('id', '=', id).forUpdate().executeTakeFirst();
    return row ? toReservationRow(row as RawReservation) : undefined;
  },

  async closeReservation(tx: Tx, id: string, state: 'released' | 'fulfilled'): Promise<ReservationRow> {
    const row = await tx
      .updateTable('reservations')
      .set({ state, closed_at: sql`now()` })
      .where('id', '=', id)
      .where('state', '=', 'active')
      .returning(reservationColumns)
      .executeTakeFirstOrThrow();
    return toReservationRow(row as RawReservation);
  },

  async reservations(db: Executor, sampleId: string, options: { limit: number; after?: { createdAt: Date; id: string } | undefined }): Promise<ReservationRow[]> {
    let query = db.selectFrom('reservations').select(reservationColumns).where('sample_id', '=', sampleId);
    if (options.after) {
      const { createdAt, id } = options.after;
      query = query.where(sql<boolean>`(created_at, id) > (${createdAt}::timestamptz, ${id}::uuid)`);
    }
    const rows = await query.orderBy('created_at').orderBy('id').limit(options.limit).execute();
    return rows.map((r) => toReservationRow(r as RawReservation));
  },

  async movements(db: Executor, sampleId: string, options: { limit: number; afterSeq?: bigint | undefined }): Promise<MovementRow[]> {
    let query = db.selectFrom('movements').selectAll().where('sample_id', '=', sampleId);
    if (options.afterSeq !== undefined) query = query.where('seq', '>', options.afterSeq.toString());
    const rows = await query.orderBy('seq').limit(options.limit).execute();
    return rows.map(toMovementRow);
  },

  /** Every movement of a lineage, in order (for conservation checks). */
  async lineageMovements(db: Executor, rootId: string): Promise<MovementRow[]> {
    const rows = await db.selectFrom('movements').selectAll().where('root_id', '=', rootId).orderBy('seq').execute();
    return rows.map(toMovementRow);
  },

  /** Every sample of a lineage with the sum of its active reservations. */
  async lineageSamples(db: Executor, rootId: string): Promise<Array<SampleRow & { active_reservations: bigint }>> {
    const rows = await sql<RawSample & { active_reservations: string }>`
      select s.*, coalesce((select sum(r.quantity) from reservations r where r.sample_id = s.id and r.state = 'active'), 0)::bigint as active_reservations
      from samples s where s.root_id = ${rootId} order by s.identifier collate "C"`.execute(db);
    return rows.rows.map((r) => ({ ...toSampleRow(r), active_reservations: BigInt(r.active_reservations) }));
  },

  async ancestors(db: Executor, id: string): Promise<SampleRow[]> {
    const rows = await sql<RawSample & { depth: number }>`
      with recursive up as (
        select p.*, 1 as depth from samples s join samples p on p.id = s.parent_id where s.id = ${id}
        union all
        select p.*, up.depth + 1 from up join samples p on p.id = up.parent_id where up.depth < 1000
      )
      select ${sampleColumnList} from up order by depth desc`.execute(db);
    return rows.rows.map(toSampleRow);
  },

  async descendants(db: Executor, id: string, limit: number): Promise<Array<SampleRow & { depth: number }>> {
    const rows = await sql<RawSample & { depth: number }>`
      with recursive down as (
        select c.*, 1 as depth from samples c where c.parent_id = ${id}
        union all
        select c.*, down.depth + 1 from down join samples c on c.parent_id = down.id where down.depth < 1000
      )
      select ${sampleColumnList}, depth from down order by depth, identifier collate "C" limit ${limit}`.execute(db);
    return rows.rows.map((r) => ({ ...toSampleRow(r), depth: Number(r.depth) }));
  },

  /** Keyset page on (identifier collate "C", id), the order of the 0005 indexes. */
  async list(db: Executor, filter: SampleFilter): Promise<SampleRow[]> {
    let query = db.selectFrom('samples').select(sampleColumns);
    if (filter.collectionId !== undefined) query = query.where('collection_id', '=', filter.collectionId);
    if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
    if (filter.state !== undefined) query = query.where('state', '=', filter.state);
    if (filter.locationId !== undefined) query = query.where('location_id', '=', filter.locationId);
    if (filter.q !== undefined) {
      // A range on the "C" ordering uses the (identifier collate "C", id) indexes; like then only confirms it.
      query = query
        .where(sql<boolean>`identifier collate "C" >= ${filter.q}`)
        .where(sql<boolean>`identifier collate "C" < ${filter.q + '\u{10FFFF}'}`)
        .where(sql<boolean>`identifier like ${likePrefix(filter.q)}`);
    }
    if (filter.after) {
      query = query.where(sql<boolean>`(identifier collate "C", id) > (${filter.after.identifier} collate "C", ${filter.after.id}::uuid)`);
    }
    // Columns fixed by equality lead the ORDER BY (same order of results), so the planner takes the
    // index that has them in front instead of walking the identifier index and filtering: with
    // identifiers grouped by collection, that walk can pass most of the table before the first match.
    const leading = filter.collectionId !== undefined ? (filter.kind !== undefined ? (['collection_id', 'kind'] as const) : (['collection_id'] as const)) : filter.locationId !== undefined ? (['location_id'] as const) : filter.state !== undefined ? (['state'] as const) : ([] as const);
    for (const column of leading) query = query.orderBy(column);
    const rows = await query.orderBy(sql`identifier collate "C"`).orderBy('id').limit(filter.limit).execute();
    return rows.map((r) => toSampleRow(r as RawSample));
  },
};

type RawMovement = Omit<MovementRow, 'delta' | 'reserved_delta' | 'quantity_after' | 'reserved_after' | 'seq'> & {
  delta: string;
  reserved_delta: string;
  quantity_after: string;
  reserved_after: string;
  seq: string;
};

function toMovementRow(raw: RawMovement): MovementRow {
  return {
    ...raw,
    delta: BigInt(raw.delta),
    reserved_delta: BigInt(raw.reserved_delta),
    quantity_after: BigInt(raw.quantity_after),
    reserved_after: BigInt(raw.reserved_after),
    seq: BigInt(raw.seq),
  };
}
