import crypto from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { DomainError } from '../../core/errors.js';
import type { DB } from './database.js';
import type { Database } from './schema.js';

export type Tx = Transaction<Database>;
export type Executor = DB | Tx;

const RETRYABLE = new Set(['40001', '40P01']);

/**
 * What runs once a transaction is over: counters (metrics.ts) must count what
 * committed, not what a rolled-back or retried attempt did. Only for such
 * bookkeeping; a hook never changes the outcome and its errors are ignored.
 */
export interface TransactionHooks {
  /** The database the transaction runs on, so a per-database observer can be found. */
  readonly db: DB;
  /** fn runs after the transaction committed; never after a rollback or an attempt that is retried. */
  afterCommit(fn: () => void): void;
  /** fn runs once the transaction is over for good, committed or failed; not after an attempt that is retried. */
  afterEnd(fn: () => void): void;
}

const hooks = new WeakMap<Tx, { db: DB; commit: Array<() => void>; end: Array<() => void> }>();

/** The hooks of a transaction inTransaction opened; undefined for any other (migrations, backups). */
export function transactionHooks(tx: Tx): TransactionHooks | undefined {
  const entry = hooks.get(tx);
  if (!entry) return undefined;
  return { db: entry.db, afterCommit: (fn) => void entry.commit.push(fn), afterEnd: (fn) => void entry.end.push(fn) };
}

function runHooks(fns: Array<() => void>): void {
  for (const fn of fns) {
    try {
      fn();
    } catch {
      // Bookkeeping only: the transaction's outcome stands.
    }
  }
}

/**
 * Runs fn in a transaction, retrying serialization failures and deadlocks
 * (SQLSTATE 40001, 40P01) a few times with jitter.
 */
export async function inTransaction<T>(
  db: DB,
  fn: (tx: Tx) => Promise<T>,
  options: { isolation?: 'serializable' | 'repeatable read' | 'read committed'; attempts?: number } = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const entry = { db, commit: [] as Array<() => void>, end: [] as Array<() => void> };
    try {
      const builder = options.isolation ? db.transaction().setIsolationLevel(options.isolation) : db.transaction();
      const result = await builder.execute((tx) => {
        hooks.set(tx, entry);
        return fn(tx);
      });
      runHooks([...entry.commit, ...entry.end]);
      return result;
    } catch (error) {
      if (attempt >= attempts || !RETRYABLE.has(sqlState(error) ?? '')) {
        runHooks(entry.end);
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (sqlState(error) !== '23505') return false;
  if (!constraint) return true;
  const detail = error as { constraint?: string; message?: string };
  return detail.constraint === constraint || (detail.message ?? '').includes(constraint);
}

export interface IdempotencyContext {
  userId: string | null;
  key: string | undefined;
  /** What the key is bound to: the operation and its input. */
  scope: string;
  input: unknown;
}

/**
 * Runs a quantity-changing operation once per Idempotency-Key: the key is
 * recorded in the same transaction as the change, so a replay returns the
 * stored answer and a concurrent duplicate waits for the first and replays it.
 */
export async function idempotent<T>(db: DB, context: IdempotencyContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const { key, userId } = context;
  if (!key) return inTransaction(db, fn);
  const owner = userId ?? '00000000-0000-0000-0000-000000000000';
  const requestHash = crypto.createHash('sha256').update(`${context.scope}\n${stableJson(context.input)}`).digest('hex');
  return inTransaction(db, async (tx) => {
    const inserted = await tx
      .insertInto('idempotency_keys')
      .values({ user_id: owner, key, scope: context.scope, request_hash: requestHash })
      .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    if (!inserted) {
      const existing = await tx
        .selectFrom('idempotency_keys')
        .select(['request_hash', 'response', 'status'])
        .where('user_id', '=', owner)
        .where('key', '=', key)
        .executeTakeFirstOrThrow();
      if (existing.request_hash !== requestHash) {
        throw new DomainError('idempotency-key-reuse', 'This Idempotency-Key was already used for a different request', {
          errors: [{ field: 'Idempotency-Key', message: 'already used with another body or endpoint' }],
        });
      }
      if (existing.status === null) {
        throw new DomainError('idempotency-key-in-progress', 'A request with this Idempotency-Key is still being processed');
      }
      return existing.response as T;
    }
    const result = await fn(tx);
    await tx
      .updateTable('idempotency_keys')
      .set({ status: 200, response: JSON.stringify(result) })
      .where('user_id', '=', owner)
      .where('key', '=', key)
      .execute();
    return result;
  });
}

/** JSON with sorted keys, so equal inputs hash equally. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : typeof v === 'bigint'
        ? v.toString()
        : v,
  );
}

export { sql };
