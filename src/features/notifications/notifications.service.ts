/**
 * Telling the people who must act. A notification is written in the same
 * transaction as the change that causes it; when SMTP is configured an e-mail
 * is queued in the outbox in that transaction too, and a sender delivers it
 * later, retrying with back-off, so nothing is lost while mail is down.
 */
import crypto from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Actor } from '../../core/actor.js';
import { DomainError, notFound } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import type { DB } from '../../platform/db/database.js';
import { inTransaction, type Tx } from '../../platform/db/tx.js';
import type { Logger } from '../../platform/logger.js';
import { notificationsRepository } from './notifications.repository.js';

export interface Message {
  kind: string;
  title: string;
  body: string;
  entityType?: string;
  entityId?: string;
}

export interface MailTransport {
  sendMail(mail: { from: string; to: string; subject: string; text: string }): Promise<unknown>;
}

export interface NotificationsOptions {
  smtpUrl: string | undefined;
  smtpFrom: string;
  publicUrl: string;
  logger: Logger;
  /** Tests pass their own; otherwise nodemailer over SMTP_URL. */
  transport?: MailTransport;
}

const MAX_ATTEMPTS = 10;
const LEASE_MS = 5 * 60_000;

export type NotificationsService = ReturnType<typeof createNotificationsService>;

export function createNotificationsService(db: DB, options: NotificationsOptions) {
  const transport: MailTransport | undefined = options.transport ?? (options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : undefined);
  const tasks: Array<{ name: string; run: () => Promise<unknown> }> = [];
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  const service = {
    mailEnabled: transport !== undefined,

    /** Records in-app notifications (and queued mail) inside the caller's transaction. */
    async notify(tx: Tx, userIds: Iterable<string | null>, message: Message): Promise<void> {
      const recipients = [...new Set([...userIds].filter((id): id is string => Boolean(id)))];
      const rows = recipients.map((user_id) => ({
        id: crypto.randomUUID(),
        user_id,
        kind: message.kind,
        title: message.title.slice(0, 300),
        body: message.body.slice(0, 5000),
        entity_type: message.entityType ?? null,
        entity_id: message.entityId ?? null,
      }));
      await notificationsRepository.insert(tx, rows);
      if (!transport || rows.length === 0) return;
      const emails = new Map((await notificationsRepository.emails(tx, recipients)).map((u) => [u.id, u.email]));
      const link = message.entityType && message.entityId ? `\n\n${options.publicUrl}/${message.entityType}s/${message.entityId}` : '';
      await notificationsRepository.enqueueMail(
        tx,
        rows.filter((row) => emails.has(row.user_id)).map((row) => ({ id: crypto.randomUUID(), notification_id: row.id, to_address: emails.get(row.user_id)!, subject: `[SampleBank] ${row.title}`, body: `${row.body}${link}` })),
      );
    },

    /** The call's chair, or every chair when the call has none. */
    async notifyChairs(tx: Tx, chairId: string | null, message: Message): Promise<void> {
      await service.notify(tx, chairId ? [chairId] : await notificationsRepository.chairs(tx), message);
    },

    async list(actor: Actor | null, query: { limit: number; cursor?: string | undefined; unread?: boolean | undefined }) {
      authorize(actor, 'notification.read');
      if (!actor.userId) return { items: [], nextCursor: null };
      const rows = await notificationsRepository.list(db, actor.userId, { limit: query.limit + 1, before: decodeCursor(query.cursor), unread: query.unread });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => ({ id: row.id, kind: row.kind, title: row.title, body: row.body, entityType: row.entity_type, entityId: row.entity_id, createdAt: row.created_at.toISOString(), readAt: row.read_at?.toISOString() ?? null })),
        nextCursor: rows.length > query.limit && last ? Buffer.from(`${last.created_at.toISOString()}|${last.id}`).toString('base64url') : null,
      };
    },

    async markRead(actor: Actor | null, id: string): Promise<void> {
      authorize(actor, 'notification.read');
      if (!actor.userId || !(await notificationsRepository.exists(db, actor.userId, id))) throw notFound('The notification');
      await notificationsRepository.markRead(db, actor.userId, id);
    },

    /** Sends due mail; a failure is kept with its error and tried again later. */
    async deliverOutbox(now = new Date()): Promise<{ sent: number; failed: number }> {
      if (!transport) return { sent: 0, failed: 0 };
      const due = await inTransaction(db, (tx) => notificationsRepository.claimDue(tx, now, 50, new Date(now.getTime() + LEASE_MS)));
      let sent = 0;
      let failed = 0;
      for (const mail of due) {
        try {
          await transport.sendMail({ from: options.smtpFrom, to: mail.to_address, subject: mail.subject, text: mail.body });
          await notificationsRepository.markSent(db, mail.id);
          sent++;
        } catch (error) {
          const attempts = mail.attempts + 1;
          const retryAt = attempts >= MAX_ATTEMPTS ? null : new Date(now.getTime() + Math.min(2 ** attempts, 360) * 60_000);
          await notificationsRepository.markFailed(db, mail.id, attempts, error instanceof Error ? error.message : String(error), retryAt);
          options.logger.warn({ outboxId: mail.id, attempts }, 'mail delivery failed; kept in the outbox');
          failed++;
        }
      }
      return { sent, failed };
    },

    outbox: () => notificationsRepository.outbox(db),

    /** Periodic work other features register (review reminders); run by the server. */
    addPeriodicTask(name: string, run: () => Promise<unknown>): void {
      tasks.push({ name, run });
    },

    async runPeriodicTasks(): Promise<void> {
      if (running) return;
      running = true;
      try {
        for (const task of [...tasks, { name: 'mail', run: () => service.deliverOutbox() }]) {
          try {
            await task.run();
          } catch (error) {
            options.logger.error({ err: error, task: task.name }, 'periodic task failed');
          }
        }
      } finally {
        running = false;
      }
    },

    start(intervalMs = 60_000): void {
      if (timer) return;
      timer = setInterval(() => void service.runPeriodicTasks(), intervalMs);
      timer.unref();
    },

    stop(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  return service;
}

function decodeCursor(cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) {
    throw new DomainError('validation-failed', 'The cursor is not valid', { errors: [{ field: 'cursor', message: 'is not a cursor this list gave' }] });
  }
  return { createdAt, id };
}
