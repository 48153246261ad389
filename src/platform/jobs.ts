/**
 * Long work as jobs: a row in `jobs` with progress (done/total/message) that
 * the CLI and the web app show, and a result or an error at the end.
 *
 * Progress is kept in memory for jobs running in this process and written to
 * the row without waiting: on PGlite (one connection) the work's own
 * transaction holds the connection, so a progress write waits for it, and the
 * worker must never await one inside that transaction.
 */
import crypto from 'node:crypto';
import type { DB } from './db/database.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';

export interface Job {
  id: string;
  kind: string;
  state: JobState;
  done: number;
  total: number | null;
  message: string | null;
  result: unknown;
  error: unknown;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface JobHandle {
  readonly id: string;
  /** Records progress; never waits for the database (see above). */
  progress(done: number, total?: number | null, message?: string | null): void;
  succeed(result: unknown, message?: string): Promise<void>;
  fail(error: { type: string; message: string; [more: string]: unknown }, result?: unknown): Promise<void>;
}

export type JobRunner = ReturnType<typeof createJobRunner>;

interface JobRow {
  id: string;
  kind: string;
  state: JobState;
  done: string;
  total: string | null;
  message: string | null;
  result: unknown;
  error: unknown;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    done: Number(row.done),
    total: row.total === null ? null : Number(row.total),
    message: row.message,
    result: row.result ?? null,
    error: row.error ?? null,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** How often progress reaches the row at most; the in-memory copy is always current. */
const WRITE_INTERVAL_MS = 500;

export function createJobRunner(db: DB, onWriteError: (error: unknown) => void = () => {}) {
  const live = new Map<string, Job>();

  async function writeRow(job: Job): Promise<void> {
    await db
      .updateTable('jobs')
      .set({ done: job.done, total: job.total, message: job.message, updated_at: new Date() })
      .where('id', '=', job.id)
      .where('state', '=', 'running')
      .execute();
  }

  return {
    async create(kind: string, createdBy: string | null, total: number | null = null): Promise<JobHandle> {
      const id = crypto.randomUUID();
      const row = (await db
        .insertInto('jobs')
        .values({ id, kind, state: 'running', done: 0, total, created_by: createdBy })
        .returningAll()
        .executeTakeFirstOrThrow()) as unknown as JobRow;
      const job = toJob(row);
      live.set(id, job);
      let inflight: Promise<void> = Promise.resolve();
      let writing = false;
      let lastWrite = 0;

      const finish = async (state: 'succeeded' | 'failed', values: { result?: unknown; error?: unknown; message?: string | null }) => {
        await inflight;
        const updated = (await db
          .updateTable('jobs')
          .set({
            state,
            done: job.done,
            total: job.total,
            message: values.message ?? job.message,
            result: values.result === undefined ? null : JSON.stringify(values.result),
            error: values.error === undefined ? null : JSON.stringify(values.error),
            updated_at: new Date(),
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow()) as unknown as JobRow;
        Object.assign(job, toJob(updated));
        live.delete(id);
      };

      return {
        id,
        progress(done, total, message) {
          job.done = done;
          if (total !== undefined) job.total = total;
          if (message !== undefined) job.message = message;
          job.updatedAt = new Date();
          const now = Date.now();
          if (writing || now - lastWrite < WRITE_INTERVAL_MS) return;
          writing = true;
          lastWrite = now;
          inflight = writeRow({ ...job })
            .catch(onWriteError)
            .finally(() => {
              writing = false;
            });
        },
        succeed: (result, message) => finish('succeeded', { result, message: message ?? null }),
        fail: (error, result) => finish('failed', { error, result, message: error.message }),
      };
    },

    /** The job as this process knows it now (live progress), else as stored. */
    async get(id: string): Promise<Job | undefined> {
      const running = live.get(id);
      if (running) return { ...running };
      const row = (await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst()) as unknown as JobRow | undefined;
      return row ? toJob(row) : undefined;
    },
  };
}
