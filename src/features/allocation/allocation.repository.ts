/** SQL of the allocation feature: allocations, their items (the problem) and lines (the pieces). */
import { sql } from 'kysely';
import type { ItemExclusion } from '../../core/allocation/explain.js';
import type { Executor, Tx } from '../../platform/db/tx.js';
import type { AllocationState } from '../../platform/db/schema.js';

export interface AllocationRow {
  id: string;
  call_id: string;
  state: AllocationState;
  solver: 'highs' | 'greedy';
  solver_status: string | null;
  fallback_reason: string | null;
  edited: boolean;
  objective: number;
  greedy_objective: number;
  bound: number | null;
  elapsed_ms: number;
  min_cut: string;
  max_pieces: number;
  cap_per_kind: string | null;
  cap_total: string | null;
  note: string | null;
  offer: Array<{ kind: string; releasable: string }>;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  approved_by: string | null;
  approved_at: Date | null;
  executed_by: string | null;
  executed_at: Date | null;
}

export interface AllocationItemRow {
  allocation_id: string;
  application_id: string;
  kind: string;
  institution_id: string;
  requested: string;
  minimum: string;
  score: number;
  rank: number;
  allocated: string;
  outcome: 'full' | 'partial' | 'none';
  reason: string;
  params: Record<string, string | number>;
  explanation: string;
  /** The samples of this kind consent kept from the application (empty when none). */
  exclusions: ItemExclusion[];
}

export interface AllocationLineRow {
  id: string;
  allocation_id: string;
  application_id: string;
  kind: string;
  sample_id: string;
  quantity: string;
  child_sample_id: string | null;
  reservation_id: string | null;
  sample_identifier: string;
  child_identifier: string | null;
}

export interface ShelfSampleRow {
  id: string;
  identifier: string;
  kind: string;
  quantity: string;
  reserved: string;
  state: string;
}

export type AllocationInsert = Omit<AllocationRow, 'state' | 'edited' | 'created_at' | 'updated_at' | 'approved_by' | 'approved_at' | 'executed_by' | 'executed_at' | 'offer'> & { offer: string };
export type ItemInsert = AllocationItemRow;
export type LineInsert = Omit<AllocationLineRow, 'sample_identifier' | 'child_identifier' | 'child_sample_id' | 'reservation_id'>;

const json = (value: unknown) => JSON.stringify(value);

export const allocationRepository = {
  async insert(tx: Tx, row: AllocationInsert): Promise<void> {
    await tx.insertInto('allocations').values(row).execute();
  },

  async insertItems(tx: Tx, rows: ItemInsert[]): Promise<void> {
    if (rows.length === 0) return;
    await tx
      .insertInto('allocation_items')
      .values(rows.map((r) => ({ ...r, params: json(r.params), exclusions: json(r.exclusions) })))
      .execute();
  },

  async replaceLines(tx: Tx, allocationId: string, rows: LineInsert[]): Promise<void> {
    await tx.deleteFrom('allocation_lines').where('allocation_id', '=', allocationId).execute();
    if (rows.length > 0) await tx.insertInto('allocation_lines').values(rows).execute();
  },

  async updateOutcomes(tx: Tx, allocationId: string, rows: Array<Pick<AllocationItemRow, 'application_id' | 'kind' | 'allocated' | 'outcome' | 'reason' | 'params' | 'explanation' | 'exclusions'>>): Promise<void> {
    for (const r of rows) {
      await tx
        .updateTable('allocation_items')
        .set({ allocated: r.allocated, outcome: r.outcome, reason: r.reason, params: json(r.params), explanation: r.explanation, exclusions: json(r.exclusions) })
        .where('allocation_id', '=', allocationId)
        .where('application_id', '=', r.application_id)
        .where('kind', '=', r.kind)
        .execute();
    }
  },

  async find(db: Executor, id: string): Promise<AllocationRow | undefined> {
    return (await db.selectFrom('allocations').selectAll().where('id', '=', id).executeTakeFirst()) as AllocationRow | undefined;
  },

  async findForUpdate(tx: Tx, id: string): Promise<AllocationRow | undefined> {
    return (await tx.selectFrom('allocations').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()) as AllocationRow | undefined;
  },

  async listByCall(db: Executor, callId: string): Promise<AllocationRow[]> {
    return (await db.selectFrom('allocations').selectAll().where('call_id', '=', callId).orderBy('created_at', 'desc').orderBy('id').execute()) as AllocationRow[];
  },

  async items(db: Executor, allocationId: string): Promise<AllocationItemRow[]> {
    return (await db.selectFrom('allocation_items').selectAll().where('allocation_id', '=', allocationId).orderBy('rank').orderBy('application_id').orderBy('kind').execute()) as AllocationItemRow[];
  },

  async lines(db: Executor, allocationId: string): Promise<AllocationLineRow[]> {
    return (await db
      .selectFrom('allocation_lines as l')
      .innerJoin('samples as s', 's.id', 'l.sample_id')
      .leftJoin('samples as c', 'c.id', 'l.child_sample_id')
      .select(['l.id', 'l.allocation_id', 'l.application_id', 'l.kind', 'l.sample_id', 'l.quantity', 'l.child_sample_id', 'l.reservation_id', 's.identifier as sample_identifier', 'c.identifier as child_identifier'])
      .where('l.allocation_id', '=', allocationId)
      .orderBy('l.application_id')
      .orderBy('l.kind')
      .orderBy('s.identifier')
      .execute()) as AllocationLineRow[];
  },

  /** Moves an allocation from one of `from` to a new state; undefined when it was not in one of them (someone else moved it). */
  async transition(tx: Tx, id: string, from: AllocationState[], set: Partial<{ state: AllocationState; edited: boolean; objective: number; approved_by: string | null; approved_at: Date | null; executed_by: string | null; executed_at: Date; offer: string }>): Promise<AllocationRow | undefined> {
    return (await tx
      .updateTable('allocations')
      .set({ ...set, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('state', 'in', from)
      .returningAll()
      .executeTakeFirst()) as AllocationRow | undefined;
  },

  /** Drafts and approved allocations of the call, other than `except`, that an execution makes stale. */
  async supersedeOthers(tx: Tx, callId: string, except: string): Promise<string[]> {
    const rows = await tx
      .updateTable('allocations')
      .set({ state: 'superseded', updated_at: sql<Date>`now()` })
      .where('call_id', '=', callId)
      .where('id', '<>', except)
      .where('state', 'in', ['draft', 'approved'])
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  },

  /** Quantities per kind already handed out by executed allocations of the call (other than `except`). */
  async executedByKind(db: Executor, callId: string, except?: string): Promise<Map<string, bigint>> {
    let query = db
      .selectFrom('allocation_lines as l')
      .innerJoin('allocations as a', 'a.id', 'l.allocation_id')
      .select(['l.kind', sql<string>`sum(l.quantity)`.as('quantity')])
      .where('a.call_id', '=', callId)
      .where('a.state', '=', 'executed')
      .groupBy('l.kind');
    if (except) query = query.where('a.id', '<>', except);
    const rows = await query.execute();
    return new Map(rows.map((r) => [r.kind, BigInt(r.quantity)]));
  },

  /** The call's pool samples as they are on the shelf now. */
  async poolSamples(db: Executor, callId: string): Promise<ShelfSampleRow[]> {
    return (await db
      .selectFrom('call_pool_samples as p')
      .innerJoin('samples as s', 's.id', 'p.sample_id')
      .select(['s.id', 's.identifier', 's.kind', 's.quantity', 's.reserved', 's.state'])
      .where('p.call_id', '=', callId)
      .orderBy('s.id')
      .execute()) as ShelfSampleRow[];
  },

  /** Locks the samples in id order (the same order in every transaction, so two executions never deadlock). */
  async lockSamples(tx: Tx, ids: string[]): Promise<ShelfSampleRow[]> {
    if (ids.length === 0) return [];
    return (await tx
      .selectFrom('samples')
      .select(['id', 'identifier', 'kind', 'quantity', 'reserved', 'state'])
      .where('id', 'in', [...new Set(ids)].sort())
      .orderBy('id')
      .forUpdate()
      .execute()) as ShelfSampleRow[];
  },

  async recordExecution(tx: Tx, lineId: string, childSampleId: string, reservationId: string): Promise<void> {
    await tx.updateTable('allocation_lines').set({ child_sample_id: childSampleId, reservation_id: reservationId }).where('id', '=', lineId).execute();
  },

  /** Executed quantities of a call: per kind, and per kind by institution and by research direction. */
  async distributed(db: Executor, callId: string): Promise<Array<{ kind: string; institution_id: string; research_direction: string | null; quantity: string }>> {
    return (await db
      .selectFrom('allocation_lines as l')
      .innerJoin('allocations as a', 'a.id', 'l.allocation_id')
      .innerJoin('applications as ap', 'ap.id', 'l.application_id')
      .select(['l.kind', 'ap.institution_id', 'ap.research_direction', sql<string>`sum(l.quantity)`.as('quantity')])
      .where('a.call_id', '=', callId)
      .where('a.state', '=', 'executed')
      .groupBy(['l.kind', 'ap.institution_id', 'ap.research_direction'])
      .execute()) as Array<{ kind: string; institution_id: string; research_direction: string | null; quantity: string }>;
  },
};
