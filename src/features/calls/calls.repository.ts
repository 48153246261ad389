import type { Executor, Tx } from '../../platform/db/tx.js';
import type { CallState } from '../../core/workflow.js';

const callColumns = [
  'id', 'collection_id', 'title', 'description', 'state', 'opens_at', 'closes_at', 'review_deadline', 'reserve_bp', 'blind',
  'reviewers_per_application', 'research_directions', 'score_min', 'score_max', 'chair_id', 'created_at', 'updated_at',
] as const;

export interface CallRow {
  id: string;
  collection_id: string;
  title: string;
  description: string | null;
  state: CallState;
  opens_at: Date;
  closes_at: Date;
  review_deadline: Date | null;
  reserve_bp: number;
  blind: boolean;
  reviewers_per_application: number;
  research_directions: string[];
  score_min: number;
  score_max: number;
  chair_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface CriterionRow {
  key: string;
  name: string;
  description: string | null;
  weight: number;
}

export type CallInsert = Omit<CallRow, 'state' | 'created_at' | 'updated_at'>;

export const callsRepository = {
  insert(tx: Tx, row: CallInsert): Promise<CallRow> {
    return tx.insertInto('calls').values(row).returning(callColumns).executeTakeFirstOrThrow() as Promise<CallRow>;
  },

  find(db: Executor, id: string): Promise<CallRow | undefined> {
    return db.selectFrom('calls').select(callColumns).where('id', '=', id).executeTakeFirst() as Promise<CallRow | undefined>;
  },

  /** Locks the call row so transitions and the changes they guard happen one at a time. */
  findForUpdate(tx: Tx, id: string): Promise<CallRow | undefined> {
    return tx.selectFrom('calls').select(callColumns).where('id', '=', id).forUpdate().executeTakeFirst() as Promise<CallRow | undefined>;
  },

  list(db: Executor, options: { includeDrafts: boolean; limit: number; after?: string | undefined; collectionId?: string | undefined; state?: CallState | undefined }): Promise<CallRow[]> {
    let query = db.selectFrom('calls').select(callColumns).orderBy('id').limit(options.limit);
    if (!options.includeDrafts) query = query.where('state', '<>', 'draft');
    if (options.after) query = query.where('id', '>', options.after);
    if (options.collectionId) query = query.where('collection_id', '=', options.collectionId);
    if (options.state) query = query.where('state', '=', options.state);
    return query.execute() as Promise<CallRow[]>;
  },

  /** Open calls whose closing date has passed. */
  openAndDue(db: Executor, now: Date): Promise<Array<{ id: string }>> {
    return db.selectFrom('calls').select('id').where('state', '=', 'open').where('closes_at', '<=', now).orderBy('closes_at').execute();
  },

  update(tx: Tx, id: string, changes: Partial<Omit<CallRow, 'id' | 'created_at' | 'updated_at' | 'state'>>): Promise<CallRow | undefined> {
    return tx.updateTable('calls').set({ ...changes, updated_at: new Date() }).where('id', '=', id).returning(callColumns).executeTakeFirst() as Promise<CallRow | undefined>;
  },

  /** Conditional: only moves a call that is still in the state the caller checked. */
  transition(tx: Tx, id: string, from: CallState, to: CallState): Promise<CallRow | undefined> {
    return tx
      .updateTable('calls')
      .set({ state: to, updated_at: new Date() })
      .where('id', '=', id)
      .where('state', '=', from)
      .returning(callColumns)
      .executeTakeFirst() as Promise<CallRow | undefined>;
  },

  criteria(db: Executor, callId: string): Promise<CriterionRow[]> {
    return db.selectFrom('call_criteria').select(['key', 'name', 'description', 'weight']).where('call_id', '=', callId).orderBy('position').execute();
  },

  async replaceCriteria(tx: Tx, callId: string, criteria: CriterionRow[]): Promise<void> {
    await tx.deleteFrom('call_criteria').where('call_id', '=', callId).execute();
    if (criteria.length === 0) return;
    await tx.insertInto('call_criteria').values(criteria.map((c, position) => ({ ...c, call_id: callId, position }))).execute();
  },

  async eligibleInstitutions(db: Executor, callId: string): Promise<string[]> {
    const rows = await db.selectFrom('call_institutions').select('institution_id').where('call_id', '=', callId).orderBy('institution_id').execute();
    return rows.map((r) => r.institution_id);
  },

  async replaceEligibleInstitutions(tx: Tx, callId: string, ids: string[]): Promise<void> {
    await tx.deleteFrom('call_institutions').where('call_id', '=', callId).execute();
    if (ids.length) await tx.insertInto('call_institutions').values(ids.map((institution_id) => ({ call_id: callId, institution_id }))).execute();
  },

  async panel(db: Executor, callId: string): Promise<string[]> {
    const rows = await db.selectFrom('call_panel').select('reviewer_id').where('call_id', '=', callId).orderBy('reviewer_id').execute();
    return rows.map((r) => r.reviewer_id);
  },

  async isOnPanel(db: Executor, callId: string, userId: string): Promise<boolean> {
    return (await db.selectFrom('call_panel').select('reviewer_id').where('call_id', '=', callId).where('reviewer_id', '=', userId).executeTakeFirst()) !== undefined;
  },

  async replacePanel(tx: Tx, callId: string, reviewerIds: string[]): Promise<void> {
    await tx.deleteFrom('call_panel').where('call_id', '=', callId).execute();
    if (reviewerIds.length) await tx.insertInto('call_panel').values(reviewerIds.map((reviewer_id) => ({ call_id: callId, reviewer_id }))).execute();
  },

  /** Panel candidates: users with the reviewer role, and their institution. */
  reviewers(db: Executor, ids: string[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return db
      .selectFrom('users')
      .select(['id', 'institution_id', 'roles'])
      .where('id', 'in', ids)
      .where('disabled_at', 'is', null)
      .execute();
  },

  institutionsExist(db: Executor, ids: string[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return db.selectFrom('institutions').select('id').where('id', 'in', ids).execute();
  },

  /** The collection's unit and precision (a minimal read of the inventory's table). */
  collection(db: Executor, id: string) {
    return db.selectFrom('collections').select(['id', 'code', 'name', 'unit', 'scale', 'human_consent']).where('id', '=', id).executeTakeFirst();
  },

  /** Samples offered for a pool: a minimal read of the inventory's table. */
  samples(db: Executor, ids: string[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return db.selectFrom('samples').select(['id', 'collection_id', 'identifier', 'kind', 'quantity', 'reserved', 'state']).where('id', 'in', ids).execute();
  },

  async replacePool(tx: Tx, callId: string, samples: Array<{ sample_id: string; kind: string; quantity: bigint }>, kinds: Array<{ kind: string; total: bigint; releasable: bigint }>): Promise<void> {
    await tx.deleteFrom('call_pool_samples').where('call_id', '=', callId).execute();
    await tx.deleteFrom('call_pool_kinds').where('call_id', '=', callId).execute();
    if (samples.length) await tx.insertInto('call_pool_samples').values(samples.map((s) => ({ ...s, call_id: callId }))).execute();
    if (kinds.length) await tx.insertInto('call_pool_kinds').values(kinds.map((k) => ({ ...k, call_id: callId }))).execute();
  },

  poolKinds(db: Executor, callId: string) {
    return db.selectFrom('call_pool_kinds').select(['kind', 'total', 'releasable']).where('call_id', '=', callId).orderBy('kind').execute();
  },

  poolSamples(db: Executor, callId: string) {
    return db
      .selectFrom('call_pool_samples as p')
      .innerJoin('samples as s', 's.id', 'p.sample_id')
      .select(['p.sample_id', 'p.kind', 'p.quantity', 's.identifier'])
      .where('p.call_id', '=', callId)
      .orderBy('p.kind')
      .orderBy('s.identifier')
      .execute();
  },
};
