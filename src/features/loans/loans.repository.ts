/** SQL of loans, their samples, returns and consumption, reports and publications. */
import { sql } from 'kysely';
import type { Executor, Tx } from '../../platform/db/tx.js';

export interface LoanRow {
  id: string;
  application_id: string;
  applicant_id: string;
  institution_id: string;
  state: 'open' | 'closed';
  due_at: Date;
  report_due_at: Date;
  opened_at: Date;
  closed_at: Date | null;
  closed_by: string | null;
  close_note: string | null;
  due_reminded_at: Date | null;
  report_reminded_at: Date | null;
  overdue_notified_at: Date | null;
}

export interface LoanSampleRow {
  loan_id: string;
  sample_id: string;
  shipment_id: string;
  loaned: bigint;
  held: bigint;
  identifier: string;
  kind: string;
  sample_state: string;
}

export interface LoanEntryRow {
  id: string;
  loan_id: string;
  sample_id: string;
  kind: 'return' | 'consume';
  quantity: bigint;
  returned_sample_id: string | null;
  returned_identifier: string | null;
  condition: 'intact' | 'damaged' | null;
  note: string | null;
  created_by: string | null;
  created_at: Date;
  received_at: Date | null;
  received_by: string | null;
  received_quantity: bigint | null;
  received_condition: 'intact' | 'damaged' | null;
  receipt_note: string | null;
}

/** A return as the curator's returns desk lists it. */
export interface ReturnRow extends LoanEntryRow {
  application_id: string;
  applicant_id: string;
  institution_id: string;
  sample_identifier: string;
  sample_kind: string;
  returned_location_id: string | null;
  returned_state: string | null;
}

export interface LoanViewer {
  userId: string;
  privileged: boolean;
}

const loanColumns = [
  'l.id',
  'l.application_id',
  'l.applicant_id',
  'l.institution_id',
  'l.state',
  'l.due_at',
  'l.report_due_at',
  'l.opened_at',
  'l.closed_at',
  'l.closed_by',
  'l.close_note',
  'l.due_reminded_at',
  'l.report_reminded_at',
  'l.overdue_notified_at',
] as const;

/** SQL for "this loan has an overdue obligation at :now" over alias l. */
function overdueCondition(now: Date) {
  return sql<boolean>`l.state = 'open' and (
    (l.report_due_at < ${now} and not exists (select 1 from loan_reports r where r.loan_id = l.id))
    or (l.due_at < ${now} and exists (select 1 from loan_samples ls join samples smp on smp.id = ls.sample_id where ls.loan_id = l.id and smp.quantity > 0))
  )`;
}

const entryColumns = [
  'e.id', 'e.loan_id', 'e.sample_id', 'e.kind', 'e.quantity', 'e.returned_sample_id', 'smp.identifier as returned_identifier', 'e.condition', 'e.note', 'e.created_by', 'e.created_at',
  'e.received_at', 'e.received_by', 'e.received_quantity', 'e.received_condition', 'e.receipt_note',
] as const;

function toEntry<T extends { quantity: string | bigint; received_quantity: string | bigint | null }>(row: T): Omit<T, 'quantity' | 'received_quantity'> & { quantity: bigint; received_quantity: bigint | null } {
  return { ...row, quantity: BigInt(row.quantity), received_quantity: row.received_quantity === null ? null : BigInt(row.received_quantity) };
}

export const loansRepository = {
  find(db: Executor, id: string): Promise<LoanRow | undefined> {
    return db.selectFrom('loans as l').select(loanColumns).where('l.id', '=', id).executeTakeFirst() as Promise<LoanRow | undefined>;
  },

  findVisible(db: Executor, viewer: LoanViewer, id: string): Promise<LoanRow | undefined> {
    let query = db.selectFrom('loans as l').select(loanColumns).where('l.id', '=', id);
    if (!viewer.privileged) query = query.where('l.applicant_id', '=', viewer.userId);
    return query.executeTakeFirst() as Promise<LoanRow | undefined>;
  },

  forUpdate(tx: Tx, id: string): Promise<LoanRow | undefined> {
    return tx.selectFrom('loans as l').select(loanColumns).where('l.id', '=', id).forUpdate().executeTakeFirst() as Promise<LoanRow | undefined>;
  },

  byApplicationForUpdate(tx: Tx, applicationId: string): Promise<LoanRow | undefined> {
    return tx.selectFrom('loans as l').select(loanColumns).where('l.application_id', '=', applicationId).forUpdate().executeTakeFirst() as Promise<LoanRow | undefined>;
  },

  list(db: Executor, viewer: LoanViewer, options: { limit: number; after?: { at: Date; id: string } | undefined; state?: 'open' | 'closed' | undefined; overdueAt?: Date | undefined; applicationId?: string | undefined; applicantId?: string | undefined }): Promise<LoanRow[]> {
    let query = db.selectFrom('loans as l').select(loanColumns).orderBy('l.due_at').orderBy('l.id').limit(options.limit);
    if (!viewer.privileged) query = query.where('l.applicant_id', '=', viewer.userId);
    if (options.state) query = query.where('l.state', '=', options.state);
    if (options.applicationId) query = query.where('l.application_id', '=', options.applicationId);
    if (options.applicantId) query = query.where('l.applicant_id', '=', options.applicantId);
    if (options.overdueAt) query = query.where(overdueCondition(options.overdueAt));
    const after = options.after;
    if (after) query = query.where((eb) => eb.or([eb('l.due_at', '>', after.at), eb.and([eb('l.due_at', '=', after.at), eb('l.id', '>', after.id)])]));
    return query.execute() as Promise<LoanRow[]>;
  },

  async insert(tx: Tx, row: { id: string; application_id: string; applicant_id: string; institution_id: string; due_at: Date; report_due_at: Date }): Promise<void> {
    await tx.insertInto('loans').values(row).execute();
  },

  async update(tx: Tx, id: string, changes: Record<string, unknown>, state?: 'open' | 'closed'): Promise<boolean> {
    let query = tx.updateTable('loans').set({ ...changes, updated_at: new Date() }).where('id', '=', id);
    if (state) query = query.where('state', '=', state);
    const result = await query.executeTakeFirst();
    return result.numUpdatedRows === 1n;
  },

  async addSamples(tx: Tx, rows: Array<{ loan_id: string; sample_id: string; shipment_id: string; quantity: bigint }>): Promise<void> {
    if (rows.length) await tx.insertInto('loan_samples').values(rows.map((r) => ({ ...r, quantity: r.quantity.toString() }))).execute();
  },

  async samples(db: Executor, loanIds: string[]): Promise<LoanSampleRow[]> {
    if (!loanIds.length) return [];
    const rows = await db
      .selectFrom('loan_samples as ls')
      .innerJoin('samples as smp', 'smp.id', 'ls.sample_id')
      .select(['ls.loan_id', 'ls.sample_id', 'ls.shipment_id', 'ls.quantity as loaned', 'smp.quantity as held', 'smp.identifier', 'smp.kind', 'smp.state as sample_state'])
      .where('ls.loan_id', 'in', loanIds)
      .orderBy(sql`smp.identifier collate "C"`)
      .execute();
    return rows.map((r) => ({ ...r, loaned: BigInt(r.loaned), held: BigInt(r.held) }));
  },

  async insertEntry(tx: Tx, row: { id: string; loan_id: string; sample_id: string; kind: 'return' | 'consume'; quantity: bigint; returned_sample_id: string | null; condition: 'intact' | 'damaged' | null; note: string | null; created_by: string | null }): Promise<void> {
    await tx.insertInto('loan_entries').values({ ...row, quantity: row.quantity.toString() }).execute();
  },

  async entries(db: Executor, loanIds: string[]): Promise<LoanEntryRow[]> {
    if (!loanIds.length) return [];
    const rows = await db
      .selectFrom('loan_entries as e')
      .leftJoin('samples as smp', 'smp.id', 'e.returned_sample_id')
      .select(entryColumns)
      .where('e.loan_id', 'in', loanIds)
      .orderBy('e.created_at')
      .orderBy('e.id')
      .execute();
    return rows.map(toEntry);
  },

  /** Returns across loans, oldest first: in transit (not yet received by a curator) or received. */
  async returns(db: Executor, options: { received?: boolean | undefined; limit: number; after?: { at: Date; id: string } | undefined; loanId?: string | undefined }): Promise<ReturnRow[]> {
    let query = db
      .selectFrom('loan_entries as e')
      .innerJoin('loans as l', 'l.id', 'e.loan_id')
      .innerJoin('samples as loaned', 'loaned.id', 'e.sample_id')
      .leftJoin('samples as smp', 'smp.id', 'e.returned_sample_id')
      .select([...entryColumns, 'l.application_id', 'l.applicant_id', 'l.institution_id', 'loaned.identifier as sample_identifier', 'loaned.kind as sample_kind', 'smp.location_id as returned_location_id', 'smp.state as returned_state'])
      .where('e.kind', '=', 'return')
      .orderBy('e.created_at')
      .orderBy('e.id')
      .limit(options.limit);
    if (options.received === true) query = query.where('e.received_at', 'is not', null);
    if (options.received === false) query = query.where('e.received_at', 'is', null);
    if (options.loanId) query = query.where('e.loan_id', '=', options.loanId);
    const after = options.after;
    if (after) query = query.where((eb) => eb.or([eb('e.created_at', '>', after.at), eb.and([eb('e.created_at', '=', after.at), eb('e.id', '>', after.id)])]));
    const rows = await query.execute();
    return rows.map((r) => ({ ...toEntry(r), application_id: r.application_id, applicant_id: r.applicant_id, institution_id: r.institution_id, sample_identifier: r.sample_identifier, sample_kind: r.sample_kind, returned_location_id: r.returned_location_id, returned_state: r.returned_state }));
  },

  async entryForUpdate(tx: Tx, id: string): Promise<LoanEntryRow | undefined> {
    const row = await tx.selectFrom('loan_entries as e').leftJoin('samples as smp', 'smp.id', 'e.returned_sample_id').select(entryColumns).where('e.id', '=', id).forUpdate('e').executeTakeFirst();
    return row ? toEntry(row) : undefined;
  },

  /** Conditional: only a return not yet received. */
  async recordReturnReceipt(tx: Tx, id: string, values: { received_by: string | null; received_quantity: bigint; received_condition: 'intact' | 'damaged'; receipt_note: string | null }): Promise<boolean> {
    const result = await tx
      .updateTable('loan_entries')
      .set({ ...values, received_quantity: values.received_quantity.toString(), received_at: new Date() })
      .where('id', '=', id)
      .where('kind', '=', 'return')
      .where('received_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async insertReport(tx: Tx, row: { id: string; loan_id: string; summary: string; filed_by: string | null }): Promise<void> {
    await tx.insertInto('loan_reports').values(row).execute();
  },

  reports(db: Executor, loanIds: string[]) {
    if (!loanIds.length) return Promise.resolve([]);
    return db.selectFrom('loan_reports').select(['id', 'loan_id', 'summary', 'filed_by', 'filed_at']).where('loan_id', 'in', loanIds).orderBy('filed_at').orderBy('id').execute();
  },

  async insertPublication(tx: Tx, row: { id: string; loan_id: string; doi: string; title: string; acknowledgement: string; registered_by: string | null }): Promise<void> {
    await tx.insertInto('loan_publications').values(row).execute();
  },

  publications(db: Executor, loanIds: string[]) {
    if (!loanIds.length) return Promise.resolve([]);
    return db.selectFrom('loan_publications').select(['id', 'loan_id', 'doi', 'title', 'acknowledgement', 'registered_by', 'registered_at']).where('loan_id', 'in', loanIds).orderBy('registered_at').orderBy('id').execute();
  },

  /** Whether the applicant holds a loan with an obligation past its date. */
  async hasOverdue(db: Executor, applicantId: string, now: Date): Promise<{ loanId: string; applicationId: string } | undefined> {
    const row = await db.selectFrom('loans as l').select(['l.id', 'l.application_id']).where('l.applicant_id', '=', applicantId).where(overdueCondition(now)).orderBy('l.due_at').limit(1).executeTakeFirst();
    return row && { loanId: row.id, applicationId: row.application_id };
  },

  /** Open loans with a date within the window that was not yet reminded, or overdue and not yet notified. */
  reminderCandidates(db: Executor, now: Date, horizon: Date) {
    return db
      .selectFrom('loans as l')
      .innerJoin('applications as a', 'a.id', 'l.application_id')
      .select([...loanColumns, 'a.title'])
      .where('l.state', '=', 'open')
      .where((eb) =>
        eb.or([
          eb.and([eb('l.report_due_at', '<=', horizon), eb('l.report_reminded_at', 'is', null)]),
          eb.and([eb('l.due_at', '<=', horizon), eb('l.due_reminded_at', 'is', null)]),
          eb.and([eb('l.overdue_notified_at', 'is', null), overdueCondition(now)]),
        ]),
      )
      .orderBy('l.due_at')
      .limit(500)
      .execute() as Promise<Array<LoanRow & { title: string }>>;
  },

  async reportCount(db: Executor, loanId: string): Promise<number> {
    const row = await db.selectFrom('loan_reports').select((eb) => eb.fn.countAll<string>().as('n')).where('loan_id', '=', loanId).executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Returns declared by the recipient whose arrival the curator has not recorded yet. */
  async returnsInTransit(db: Executor, loanId: string): Promise<number> {
    const row = await db
      .selectFrom('loan_entries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('loan_id', '=', loanId)
      .where('kind', '=', 'return')
      .where('received_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async outstanding(db: Executor, loanId: string): Promise<bigint> {
    const row = await db
      .selectFrom('loan_samples as ls')
      .innerJoin('samples as smp', 'smp.id', 'ls.sample_id')
      .select(sql<string>`coalesce(sum(smp.quantity), 0)`.as('held'))
      .where('ls.loan_id', '=', loanId)
      .executeTakeFirstOrThrow();
    return BigInt(row.held);
  },

  people(db: Executor, ids: string[]) {
    if (!ids.length) return Promise.resolve([]);
    return db.selectFrom('users as u').leftJoin('institutions as i', 'i.id', 'u.institution_id').select(['u.id', 'u.name', 'i.name as institution']).where('u.id', 'in', ids).execute();
  },
};
