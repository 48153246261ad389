/**
 * Forward-only SQL migrations from migrations/NNNN_name.sql, applied in order,
 * each in its own transaction. An applied migration whose file changed stops
 * start-up: history is never rewritten.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { DatabaseHandle } from './database.js';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../migrations');

export interface Migration {
  version: string;
  file: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      return { version: file.slice(0, 4), file, sql: text, checksum: crypto.createHash('sha256').update(text).digest('hex') };
    });
}

export async function migrate(handle: DatabaseHandle, dir = MIGRATIONS_DIR): Promise<string[]> {
  const { db } = handle;
  // Under the same lock as each migration: two processes starting at once on a new database would
  // otherwise both create the table, and one would fail on the catalog's unique index.
  await db.transaction().execute(async (trx) => {
    if (handle.engine === 'postgres') await sql`select pg_advisory_xact_lock(747001)`.execute(trx);
    await sql`create table if not exists schema_migrations (
      version text primary key,
      file text not null,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`.execute(trx);
  });
  const applied: string[] = [];
  for (const migration of readMigrations(dir)) {
    const done = await db.transaction().execute(async (trx) => {
      if (handle.engine === 'postgres') await sql`select pg_advisory_xact_lock(747001)`.execute(trx);
      const existing = await sql<{ checksum: string }>`select checksum from schema_migrations where version = ${migration.version}`.execute(trx);
      const row = existing.rows[0];
      if (row) {
        if (row.checksum !== migration.checksum) {
          throw new Error(`Migration ${migration.file} was changed after it was applied; add a new migration instead.`);
        }
        return false;
      }
      await sql.raw(migration.sql).execute(trx);
      await sql`insert into schema_migrations (version, file, checksum) values (${migration.version}, ${migration.file}, ${migration.checksum})`.execute(trx);
      return true;
    });
    if (done) applied.push(migration.file);
  }
  return applied;
}
