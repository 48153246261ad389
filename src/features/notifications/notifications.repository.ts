import { sql } from 'kysely';
import type { Executor, Tx } from '../../platform/db/tx.js';

export interface NotificationRow {
  id: string;
  kind: string;
  title: string;
  body: string;
  entity_type: string | null;
  entity_id: string | null;
  created_at: Date;
  read_at: Date | null;
}

const columns = ['id', 'kind', 'title', 'body', 'entity_type', 'entity_id', 'created_at', 'read_at'] as const;

export const notificationsRepository = {
  async insert(tx: Tx, rows: Array<{ id: string; user_id: string; kind: string; title: string; body: string; entity_type: string | null; entity_id: string | null }>): Promise<void> {
    if (rows.length) await tx.insertInto('notifications').values(rows).execute();
  },

  async enqueueMail(tx: Tx, rows: Array<{ id: string; notification_id: string; to_address: string; subject: string; body: string }>): Promise<void> {
    if (rows.length) await tx.insertInto('mail_outbox').values(rows).execute();
  },

  emails(db: Executor, userIds: string[]) {
    if (userIds.length === 0) return Promise.resolve([]);
    return db.selectFrom('users').select(['id', 'email']).where('id', 'in', userIds).where('disabled_at', 'is', null).execute();
  },

  async chairs(db: Executor): Promise<string[]> {
    const rows = await db.selectFrom('users').select('id').where(sql<boolean>`'chair' = any(roles)`).where('disabled_at', 'is', null).execute();
    return rows.map((r) => r.id);
  },

  list(db: Executor, userId: string, options: { limit: number; before?: { createdAt: Date; id: string } | undefined; unread?: boolean | undefined }): Promise<NotificationRow[]> {
    let query = db.selectFrom('notifications').select(columns).where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit);
    if (options.unread) query = query.where('read_at', 'is', null);
    const before = options.before;
    if (before) query = query.where((eb) => eb.or([eb('created_at', '<', before.createdAt), eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)])]));
    return query.execute() as Promise<NotificationRow[]>;
  },

  markRead(db: Executor, userId: string, id: string) {
    return db.updateTable('notifications').set({ read_at: new Date() }).where('id', '=', id).where('user_id', '=', userId).where('read_at', 'is', null).returning('id').executeTakeFirst();
  },

  exists(db: Executor, userId: string, id: string) {
    return db.selectFrom('notifications').select('id').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  },

  /** Takes a lease on due mail so two senders never send the same message. */
  claimDue(tx: Tx, now: Date, limit: number, leaseUntil: Date) {
    return tx
      .updateTable('mail_outbox')
      .set({ next_attempt_at: leaseUntil })
      .where('id', 'in', (eb) => eb.selectFrom('mail_outbox').select('id').where('state', '=', 'pending').where('next_attempt_at', '<=', now).orderBy('next_attempt_at').limit(limit).forUpdate().skipLocked())
      .returning(['id', 'to_address', 'subject', 'body', 'attempts'])
      .execute();
  },

  markSent(db: Executor, id: string) {
    return db.updateTable('mail_outbox').set({ state: 'sent', sent_at: new Date(), last_error: null }).where('id', '=', id).execute();
  },

  markFailed(db: Executor, id: string, attempts: number, error: string, retryAt: Date | null) {
    return db
      .updateTable('mail_outbox')
      .set({ attempts, last_error: error.slice(0, 2000), ...(retryAt ? { next_attempt_at: retryAt } : { state: 'failed' }) })
      .where('id', '=', id)
      .execute();
  },

  outbox(db: Executor) {
    return db.selectFrom('mail_outbox').select(['id', 'to_address', 'subject', 'state', 'attempts', 'last_error']).orderBy('created_at').execute();
  },

  /** Mail waiting to be sent and the age of the oldest (by the database's clock), for /metrics; the partial index on pending mail keeps it cheap. */
  async outboxBacklog(db: Executor): Promise<{ count: number; oldestAgeSeconds: number }> {
    const row = await db
      .selectFrom('mail_outbox')
      .select([sql<string>`count(*)`.as('count'), sql<string | null>`greatest(0, extract(epoch from now() - min(created_at)))`.as('age')])
      .where('state', '=', 'pending')
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), oldestAgeSeconds: Number(row.age ?? 0) };
  },
};
