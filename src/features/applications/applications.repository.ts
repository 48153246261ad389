/**
 * Applications' SQL. Who may see a row is decided here, in the query, so no
 * route can forget it: the applicant sees their own; chairs, curators,
 * auditors and admins see every submitted one; a reviewer sees only those
 * assigned to them, never one from their own institution or one they
 * declared a conflict with.
 */
import { sql, type ExpressionBuilder } from 'kysely';
import type { ApplicationState, DecisionOutcome } from '../../core/workflow.js';
import type { Database } from '../../platform/db/schema.js';
import type { Executor, Tx } from '../../platform/db/tx.js';

export interface Viewer {
  userId: string;
  institutionId: string | null;
  privileged: boolean;
  /** Auditors and admins read everything, drafts included. */
  seesDrafts: boolean;
  reviewer: boolean;
}

/** How the viewer came to see the row: decides what the answer may contain. */
export type Access = 'own' | 'full' | 'review';

export interface ApplicationRow {
  id: string;
  call_id: string;
  applicant_id: string;
  institution_id: string;
  state: ApplicationState;
  title: string;
  research_direction: string | null;
  research_direction_other: string | null;
  methods: string | null;
  destructive: boolean;
  justification: string | null;
  team: Array<{ name: string; role?: string; institution?: string }>;
  publications: Array<{ citation: string; doi?: string }>;
  ethics_reference: string | null;
  decision: DecisionOutcome | null;
  submitted_at: Date | null;
  withdrawn_at: Date | null;
  decided_at: Date | null;
  decided_by: string | null;
  decision_rationale: string | null;
  decision_letter: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface VisibleRow extends ApplicationRow {
  access: Access;
  blind: boolean;
}

export interface ItemRow {
  application_id: string;
  kind: string;
  quantity: string;
  minimum: string;
  approved: string | null;
}

const columns = [
  'a.id', 'a.call_id', 'a.applicant_id', 'a.institution_id', 'a.state', 'a.title', 'a.research_direction', 'a.research_direction_other',
  'a.methods', 'a.destructive', 'a.justification', 'a.team', 'a.publications', 'a.ethics_reference', 'a.decision', 'a.submitted_at', 'a.withdrawn_at',
  'a.decided_at', 'a.decided_by', 'a.decision_rationale', 'a.decision_letter', 'a.created_at', 'a.updated_at',
] as const;

type EB = ExpressionBuilder<Database & { a: Database['applications'] }, 'a'>;

/** The reviewer may see the application: assigned, not recused, no conflict. */
function reviewable(eb: EB, viewer: Viewer) {
  return eb.and([
    eb('a.state', 'not in', ['draft', 'withdrawn']),
    eb.exists(eb.selectFrom('reviews as r').select('r.id').whereRef('r.application_id', '=', 'a.id').where('r.reviewer_id', '=', viewer.userId).where('r.state', 'in', ['assigned', 'submitted'])),
    eb.not(
      eb.exists(
        eb
          .selectFrom('review_conflicts as c')
          .select('c.id')
          .where('c.reviewer_id', '=', viewer.userId)
          .where((inner) => inner.or([inner('c.application_id', '=', inner.ref('a.id')), inner.and([inner('c.call_id', '=', inner.ref('a.call_id')), inner('c.institution_id', '=', inner.ref('a.institution_id'))])])),
      ),
    ),
    viewer.institutionId ? eb('a.institution_id', '<>', viewer.institutionId) : eb.val(true),
  ]);
}

function visibleTo(eb: EB, viewer: Viewer) {
  const ways = [eb('a.applicant_id', '=', viewer.userId)];
  if (viewer.seesDrafts) ways.push(eb.val(true));
  else if (viewer.privileged) ways.push(eb('a.state', '<>', 'draft'));
  if (viewer.reviewer) ways.push(reviewable(eb, viewer));
  return eb.or(ways);
}

function accessOf(viewer: Viewer) {
  return sql<Access>`case when a.applicant_id = ${viewer.userId} then 'own' when ${sql.lit(viewer.privileged)} then 'full' else 'review' end`;
}

export const applicationsRepository = {
  insert(tx: Tx, row: Omit<ApplicationRow, 'state' | 'decision' | 'submitted_at' | 'withdrawn_at' | 'decided_at' | 'decided_by' | 'decision_rationale' | 'decision_letter' | 'created_at' | 'updated_at' | 'team' | 'publications'> & { team: string; publications: string }) {
    return tx.insertInto('applications').values(row).returning('id').executeTakeFirstOrThrow();
  },

  findVisible(db: Executor, viewer: Viewer, id: string): Promise<VisibleRow | undefined> {
    return db
      .selectFrom('applications as a')
      .innerJoin('calls as k', 'k.id', 'a.call_id')
      .select([...columns, 'k.blind', accessOf(viewer).as('access')])
      .where('a.id', '=', id)
      .where((eb) => visibleTo(eb as unknown as EB, viewer))
      .executeTakeFirst() as Promise<VisibleRow | undefined>;
  },

  listVisible(db: Executor, viewer: Viewer, options: { limit: number; after?: string | undefined; callId?: string | undefined; state?: ApplicationState | undefined; mine?: boolean | undefined }): Promise<VisibleRow[]> {
    let query = db
      .selectFrom('applications as a')
      .innerJoin('calls as k', 'k.id', 'a.call_id')
      .select([...columns, 'k.blind', accessOf(viewer).as('access')])
      .where((eb) => visibleTo(eb as unknown as EB, viewer))
      .orderBy('a.id')
      .limit(options.limit);
    if (options.after) query = query.where('a.id', '>', options.after);
    if (options.callId) query = query.where('a.call_id', '=', options.callId);
    if (options.state) query = query.where('a.state', '=', options.state);
    if (options.mine) query = query.where('a.applicant_id', '=', viewer.userId);
    return query.execute() as Promise<VisibleRow[]>;
  },

  /** Unfiltered: for services that already checked access, and for later features. */
  find(db: Executor, id: string): Promise<ApplicationRow | undefined> {
    return db.selectFrom('applications as a').select(columns).where('a.id', '=', id).executeTakeFirst() as Promise<ApplicationRow | undefined>;
  },

  findForUpdate(tx: Tx, id: string): Promise<ApplicationRow | undefined> {
    return tx.selectFrom('applications as a').select(columns).where('a.id', '=', id).forUpdate().executeTakeFirst() as Promise<ApplicationRow | undefined>;
  },

  listByCall(db: Executor, callId: string, states?: ApplicationState[]): Promise<ApplicationRow[]> {
    let query = db.selectFrom('applications as a').select(columns).where('a.call_id', '=', callId).orderBy('a.id');
    if (states) query = query.where('a.state', 'in', states);
    return query.execute() as Promise<ApplicationRow[]>;
  },

  update(tx: Tx, id: string, fromState: ApplicationState, changes: Record<string, unknown>) {
    return tx
      .updateTable('applications')
      .set({ ...changes, updated_at: new Date(), version: sql`version + 1` })
      .where('id', '=', id)
      .where('state', '=', fromState)
      .returning(['id', 'state'])
      .executeTakeFirst();
  },

  /** Moves every application of a call from one state to another (a call entering review). */
  async moveAll(tx: Tx, callId: string, from: ApplicationState, to: ApplicationState): Promise<string[]> {
    const rows = await tx.updateTable('applications').set({ state: to, updated_at: new Date() }).where('call_id', '=', callId).where('state', '=', from).returning('id').execute();
    return rows.map((r) => r.id);
  },

  countByState(db: Executor, callId: string, state: ApplicationState) {
    return db.selectFrom('applications').select((eb) => eb.fn.countAll<string>().as('n')).where('call_id', '=', callId).where('state', '=', state).executeTakeFirstOrThrow().then((r) => Number(r.n));
  },

  items(db: Executor, ids: string[]): Promise<ItemRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return db.selectFrom('application_items').select(['application_id', 'kind', 'quantity', 'minimum', 'approved']).where('application_id', 'in', ids).orderBy('application_id').orderBy('position').execute();
  },

  async replaceItems(tx: Tx, id: string, items: Array<{ kind: string; quantity: bigint; minimum: bigint }>): Promise<void> {
    await tx.deleteFrom('application_items').where('application_id', '=', id).execute();
    if (items.length) await tx.insertInto('application_items').values(items.map((item, position) => ({ ...item, application_id: id, position }))).execute();
  },

  setApproved(tx: Tx, id: string, kind: string, approved: bigint | null) {
    return tx.updateTable('application_items').set({ approved }).where('application_id', '=', id).where('kind', '=', kind).execute();
  },

  attachments(db: Executor, ids: string[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return db
      .selectFrom('application_attachments')
      .select(['id', 'application_id', 'display_name', 'size_bytes', 'sha256', 'created_at'])
      .where('application_id', 'in', ids)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  },

  insertAttachment(tx: Tx, row: { id: string; application_id: string; display_name: string; media_type: 'application/pdf'; size_bytes: number; sha256: string; content: Buffer; uploaded_by: string | null }) {
    return tx.insertInto('application_attachments').values(row).returning(['id', 'display_name', 'size_bytes', 'sha256', 'created_at']).executeTakeFirstOrThrow();
  },

  attachmentContent(db: Executor, applicationId: string, id: string) {
    return db.selectFrom('application_attachments').select(['id', 'display_name', 'content', 'size_bytes']).where('application_id', '=', applicationId).where('id', '=', id).executeTakeFirst();
  },

  deleteAttachment(tx: Tx, applicationId: string, id: string) {
    return tx.deleteFrom('application_attachments').where('application_id', '=', applicationId).where('id', '=', id).returning('id').executeTakeFirst();
  },

  people(db: Executor, userIds: string[]) {
    if (userIds.length === 0) return Promise.resolve([]);
    return db.selectFrom('users').select(['id', 'name', 'email']).where('id', 'in', userIds).execute();
  },

  institutions(db: Executor, ids: string[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return db.selectFrom('institutions').select(['id', 'code', 'name']).where('id', 'in', ids).execute();
  },

  /** Comments reviewers wrote for the applicant (never their names or confidential notes). */
  async commentsForApplicant(db: Executor, id: string): Promise<string[]> {
    const rows = await db
      .selectFrom('reviews')
      .select('comments_for_applicant')
      .where('application_id', '=', id)
      .where('state', '=', 'submitted')
      .where('comments_for_applicant', 'is not', null)
      .orderBy('submitted_at')
      .execute();
    return rows.map((r) => r.comments_for_applicant!).filter((c) => c.trim().length > 0);
  },

  statistics(db: Executor, callId: string) {
    return db
      .selectFrom('applications as a')
      .innerJoin('institutions as i', 'i.id', 'a.institution_id')
      .select(['a.state', 'a.research_direction', 'a.institution_id', 'i.code', 'i.name'])
      .where('a.call_id', '=', callId)
      .where('a.state', 'not in', ['draft', 'withdrawn'])
      .execute();
  },
};
