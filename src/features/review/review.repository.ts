import { sql } from 'kysely';
import type { Executor, Tx } from '../../platform/db/tx.js';

export type ReviewState = 'assigned' | 'submitted' | 'recused';

export interface ReviewRow {
  id: string;
  call_id: string;
  application_id: string;
  application_institution_id: string;
  reviewer_id: string;
  state: ReviewState;
  comments_for_applicant: string | null;
  confidential_notes: string | null;
  assigned_how: 'manual' | 'auto';
  assigned_at: Date;
  submitted_at: Date | null;
  updated_at: Date;
}

const columns = ['id', 'call_id', 'application_id', 'application_institution_id', 'reviewer_id', 'state', 'comments_for_applicant', 'confidential_notes', 'assigned_how', 'assigned_at', 'submitted_at', 'updated_at'] as const;

export const reviewRepository = {
  insert(tx: Tx, row: { id: string; call_id: string; application_id: string; application_institution_id: string; reviewer_id: string; reviewer_institution_id: string | null; assigned_by: string | null; assigned_how: 'manual' | 'auto' }) {
    return tx.insertInto('reviews').values(row).returning(columns).executeTakeFirstOrThrow() as Promise<ReviewRow>;
  },

  find(db: Executor, id: string): Promise<ReviewRow | undefined> {
    return db.selectFrom('reviews').select(columns).where('id', '=', id).executeTakeFirst() as Promise<ReviewRow | undefined>;
  },

  findForUpdate(tx: Tx, id: string): Promise<ReviewRow | undefined> {
    return tx.selectFrom('reviews').select(columns).where('id', '=', id).forUpdate().executeTakeFirst() as Promise<ReviewRow | undefined>;
  },

  findByPair(db: Executor, applicationId: string, reviewerId: string): Promise<ReviewRow | undefined> {
    return db.selectFrom('reviews').select(columns).where('application_id', '=', applicationId).where('reviewer_id', '=', reviewerId).executeTakeFirst() as Promise<ReviewRow | undefined>;
  },

  byCall(db: Executor, callId: string): Promise<ReviewRow[]> {
    return db.selectFrom('reviews').select(columns).where('call_id', '=', callId).orderBy('application_id').orderBy('reviewer_id').execute() as Promise<ReviewRow[]>;
  },

  byApplication(db: Executor, applicationId: string): Promise<ReviewRow[]> {
    return db.selectFrom('reviews').select(columns).where('application_id', '=', applicationId).orderBy('assigned_at').orderBy('id').execute() as Promise<ReviewRow[]>;
  },

  /** A reviewer's own live reviews, on applications they may still see (same rule as the applications' query). */
  mine(db: Executor, reviewerId: string, institutionId: string | null, options: { limit: number; after?: string | undefined; callId?: string | undefined }) {
    let query = db
      .selectFrom('reviews as r')
      .innerJoin('applications as a', 'a.id', 'r.application_id')
      .select(['r.id', 'r.call_id', 'r.application_id', 'r.state', 'r.comments_for_applicant', 'r.confidential_notes', 'r.assigned_at', 'r.submitted_at', 'a.title', 'a.state as application_state'])
      .where('r.reviewer_id', '=', reviewerId)
      .where('r.state', 'in', ['assigned', 'submitted'])
      .where('a.state', 'not in', ['draft', 'withdrawn'])
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('review_conflicts as c')
              .select('c.id')
              .where('c.reviewer_id', '=', reviewerId)
              .where((inner) => inner.or([inner('c.application_id', '=', inner.ref('a.id')), inner.and([inner('c.call_id', '=', inner.ref('a.call_id')), inner('c.institution_id', '=', inner.ref('a.institution_id'))])])),
          ),
        ),
      )
      .orderBy('r.id')
      .limit(options.limit);
    if (institutionId) query = query.where('a.institution_id', '<>', institutionId);
    if (options.after) query = query.where('r.id', '>', options.after);
    if (options.callId) query = query.where('r.call_id', '=', options.callId);
    return query.execute();
  },

  scores(db: Executor, reviewIds: string[]) {
    if (reviewIds.length === 0) return Promise.resolve([]);
    return db
      .selectFrom('review_scores as s')
      .innerJoin('reviews as r', 'r.id', 's.review_id')
      .leftJoin('call_criteria as c', (join) => join.onRef('c.call_id', '=', 'r.call_id').onRef('c.key', '=', 's.criterion_key'))
      .select(['s.review_id', 's.criterion_key', 's.score', 's.comment'])
      .where('s.review_id', 'in', reviewIds)
      .orderBy('s.review_id')
      .orderBy('c.position')
      .orderBy('s.criterion_key')
      .execute();
  },

  /** Scores of every submitted review of a call's live applications, for ranking. */
  submittedScores(db: Executor, callId: string) {
    return db
      .selectFrom('review_scores as s')
      .innerJoin('reviews as r', 'r.id', 's.review_id')
      .innerJoin('applications as a', 'a.id', 'r.application_id')
      .select(['r.id as review_id', 'r.application_id', 'r.reviewer_id', 's.criterion_key', 's.score'])
      .where('r.call_id', '=', callId)
      .where('r.state', '=', 'submitted')
      .where('a.state', 'not in', ['draft', 'withdrawn'])
      .execute();
  },

  async saveScores(tx: Tx, reviewId: string, scores: Array<{ criterion_key: string; score: number; comment: string | null }>): Promise<void> {
    await tx.deleteFrom('review_scores').where('review_id', '=', reviewId).execute();
    if (scores.length) await tx.insertInto('review_scores').values(scores.map((s) => ({ ...s, review_id: reviewId }))).execute();
  },

  submit(tx: Tx, id: string, changes: { comments_for_applicant: string | null; confidential_notes: string | null }) {
    return tx
      .updateTable('reviews')
      .set({ ...changes, state: 'submitted', submitted_at: new Date(), updated_at: new Date() })
      .where('id', '=', id)
      .where('state', 'in', ['assigned', 'submitted'])
      .returning('id')
      .executeTakeFirst();
  },

  recuse(tx: Tx, where: { reviewerId: string; applicationId?: string; callId?: string; institutionId?: string }) {
    let query = tx.updateTable('reviews').set({ state: 'recused', updated_at: new Date(), submitted_at: null }).where('reviewer_id', '=', where.reviewerId).where('state', '<>', 'recused');
    if (where.applicationId) query = query.where('application_id', '=', where.applicationId);
    if (where.callId) query = query.where('call_id', '=', where.callId);
    if (where.institutionId) query = query.where('application_institution_id', '=', where.institutionId);
    return query.returning(['id', 'application_id']).execute();
  },

  delete(tx: Tx, id: string) {
    return tx.deleteFrom('reviews').where('id', '=', id).where('state', '=', 'assigned').returning('id').executeTakeFirst();
  },

  countPending(db: Executor, callId: string) {
    return db
      .selectFrom('reviews as r')
      .innerJoin('applications as a', 'a.id', 'r.application_id')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('r.call_id', '=', callId)
      .where('r.state', '=', 'assigned')
      .where('a.state', 'not in', ['withdrawn'])
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  },

  countSubmitted(db: Executor, callId: string) {
    return db
      .selectFrom('reviews as r')
      .innerJoin('applications as a', 'a.id', 'r.application_id')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('r.call_id', '=', callId)
      .where('r.state', '=', 'submitted')
      .where('a.state', 'not in', ['withdrawn'])
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  },

  conflicts(db: Executor, callId: string) {
    return db
      .selectFrom('review_conflicts')
      .select(['id', 'call_id', 'reviewer_id', 'application_id', 'institution_id', 'reason', 'created_at'])
      .where('call_id', '=', callId)
      .orderBy('created_at')
      .execute();
  },

  insertConflict(tx: Tx, row: { id: string; call_id: string; reviewer_id: string; application_id: string | null; institution_id: string | null; reason: string; declared_by: string | null }) {
    return tx.insertInto('review_conflicts').values(row).onConflict((oc) => oc.doNothing()).returning('id').executeTakeFirst();
  },

  hasDeclaredConflict(db: Executor, reviewerId: string, callId: string, applicationId: string, institutionId: string) {
    return db
      .selectFrom('review_conflicts')
      .select('id')
      .where('reviewer_id', '=', reviewerId)
      .where((eb) => eb.or([eb('application_id', '=', applicationId), eb.and([eb('call_id', '=', callId), eb('institution_id', '=', institutionId)])]))
      .executeTakeFirst()
      .then((r) => r !== undefined);
  },

  institutionExists(db: Executor, id: string): Promise<boolean> {
    return db.selectFrom('institutions').select('id').where('id', '=', id).executeTakeFirst().then((r) => r !== undefined);
  },

  users(db: Executor, ids: string[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return db.selectFrom('users').select(['id', 'institution_id', 'roles', 'disabled_at']).where('id', 'in', ids).execute();
  },

  /** Reviews due soon whose reviewer was not yet reminded. */
  dueForReminder(db: Executor, now: Date, horizon: Date) {
    return db
      .selectFrom('reviews as r')
      .innerJoin('calls as k', 'k.id', 'r.call_id')
      .innerJoin('applications as a', 'a.id', 'r.application_id')
      .select(['r.id', 'r.reviewer_id', 'r.call_id', 'k.title as call_title', 'k.review_deadline', 'a.title'])
      .where('r.state', '=', 'assigned')
      .where('r.reminded_at', 'is', null)
      .where('k.state', 'in', ['closed', 'in_review'])
      .where('a.state', 'not in', ['withdrawn'])
      .where('k.review_deadline', '>', now)
      .where('k.review_deadline', '<=', horizon)
      .execute();
  },

  /**
   * Marks the reviews reminded and answers those this call marked: a review another
   * server process marked first (it waits on the row lock, then sees reminded_at set) is not answered again.
   */
  async markReminded(tx: Tx, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await tx.updateTable('reviews').set({ reminded_at: new Date() }).where('id', 'in', ids).where('reminded_at', 'is', null).returning('id').execute();
    return new Set(rows.map((r) => r.id));
  },

  /** How many live reviews each reviewer has in the call: the load auto-assignment balances. */
  async load(db: Executor, callId: string): Promise<Map<string, number>> {
    const rows = await db
      .selectFrom('reviews')
      .select(['reviewer_id', sql<string>`count(*)`.as('n')])
      .where('call_id', '=', callId)
      .where('state', 'in', ['assigned', 'submitted'])
      .groupBy('reviewer_id')
      .execute();
    return new Map(rows.map((r) => [r.reviewer_id, Number(r.n)]));
  },
};
