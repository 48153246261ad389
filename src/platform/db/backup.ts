/**
 * Logical backup and restore, the same on PGlite and PostgreSQL, so a backup
 * of one restores into the other.
 *
 * Format (JSON lines, gzip when the file name ends in .gz):
 *   {"format":"samplebank-backup","formatVersion":1,"app":…,"engine":…,"createdAt":…,"migrations":[{version,checksum}…],"tables":[…]}
 *   {"table":"users","columns":["id",…],"types":["uuid",…]}
 *   ["…","…",null,…]                 one row: every value as PostgreSQL's text form, or null
 *   {"end":"users","rows":12,"digest":"…"}
 *   … every table, parents before children …
 *   {"done":true,"tables":N,"rows":M}
 *
 * Values travel as PostgreSQL's own text form (`col::text`), which is exact for
 * every type used here (numeric, bigint, timestamptz with offset, jsonb, arrays,
 * bytea as hex) and is read back by casting to the column's type. A table's
 * digest is the sum, modulo 2^256, of the SHA-256 of each row's JSON, so it
 * does not depend on row order or on the engine's collation.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline';
import { once } from 'node:events';
import { createGunzip, createGzip } from 'node:zlib';
import { CompiledQuery, sql } from 'kysely';
import type { DatabaseHandle, DB } from './database.js';
import type { Tx } from './tx.js';

export const BACKUP_FORMAT = 'samplebank-backup';
export const BACKUP_FORMAT_VERSION = 1;
const PAGE = 2000;
const INSERT_BATCH = 500;
const SKIP = new Set(['schema_migrations']);
const MOD = 1n << 256n;

export interface TableInfo {
  name: string;
  columns: string[];
  types: string[];
  primaryKey: string[];
}

export interface TableSummary {
  table: string;
  rows: number;
  digest: string;
}

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  app: string;
  engine: string;
  createdAt: string;
  migrations: Array<{ version: string; checksum: string }>;
  tables: string[];
}

export interface Progress {
  (event: { phase: 'count' | 'backup' | 'restore' | 'verify'; table?: string; done: number; total: number }): void;
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Every table of the public schema with its columns, types and primary key, parents before children. */
export async function listTables(db: DB | Tx): Promise<TableInfo[]> {
  const columns = await sql<{ table: string; column: string; type: string; pk: boolean }>`
    select c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type,
           coalesce(a.attnum = any(i.indkey::int2[]), false) as pk
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
    left join pg_index i on i.indrelid = c.oid and i.indisprimary
    where c.relkind in ('r', 'p')
    order by c.relname, a.attnum`.execute(db);
  const fks = await sql<{ child: string; parent: string }>`
    select c.relname as child, p.relname as parent
    from pg_constraint k
    join pg_class c on c.oid = k.conrelid
    join pg_class p on p.oid = k.confrelid
    join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
    where k.contype = 'f' and k.conrelid <> k.confrelid`.execute(db);
  const tables = new Map<string, TableInfo>();
  for (const row of columns.rows) {
    if (SKIP.has(row.table)) continue;
    const info = tables.get(row.table) ?? { name: row.table, columns: [], types: [], primaryKey: [] };
    info.columns.push(row.column);
    info.types.push(row.type);
    if (row.pk) info.primaryKey.push(row.column);
    tables.set(row.table, info);
  }
  // Topological order (Kahn), ties by name so the order is stable.
  const parents = new Map<string, Set<string>>([...tables.keys()].map((name) => [name, new Set<string>()]));
  for (const fk of fks.rows) if (tables.has(fk.child) && tables.has(fk.parent)) parents.get(fk.child)!.add(fk.parent);
  const ordered: TableInfo[] = [];
  const done = new Set<string>();
  while (done.size < tables.size) {
    const ready = [...tables.keys()].filter((name) => !done.has(name) && [...parents.get(name)!].every((p) => done.has(p))).sort();
    const next = ready.length > 0 ? ready : [[...tables.keys()].filter((name) => !done.has(name)).sort()[0]!]; // a cycle: break it
    for (const name of next) {
      done.add(name);
      ordered.push(tables.get(name)!);
    }
  }
  return ordered;
}

class Digest {
  private sum = 0n;
  rows = 0;
  add(line: string): void {
    this.sum = (this.sum + BigInt(`0x${crypto.createHash('sha256').update(line).digest('hex')}`)) % MOD;
    this.rows++;
  }
  hex(): string {
    return this.sum.toString(16).padStart(64, '0');
  }
}

/** Reads a table page by page in primary-key order (PGlite cannot stream a result). */
async function* tableRows(db: Tx, table: TableInfo): AsyncGenerator<Array<string | null>> {
  const select = table.columns.map((c) => `${quote(c)}::text`).join(', ');
  const key = table.primaryKey.length > 0 ? table.primaryKey : table.columns;
  const keyIdx = key.map((k) => table.columns.indexOf(k));
  const keyTypes = keyIdx.map((i) => table.types[i]!);
  const order = key.map(quote).join(', ');
  let after: Array<string | null> | undefined;
  for (;;) {
    const where = after ? `where (${order}) > (${key.map((_, i) => `$${i + 1}::${keyTypes[i]}`).join(', ')})` : '';
    const result = await db.executeQuery<Record<string, string | null>>(
      CompiledQuery.raw(`select ${select} from ${quote(table.name)} ${where} order by ${order} limit ${PAGE}`, after ?? []),
    );
    const rows = result.rows.map((row) => Object.values(row));
    for (const row of rows) yield row;
    if (rows.length < PAGE) return;
    const last = rows.at(-1)!;
    after = keyIdx.map((i) => last[i]!);
  }
}

/**
 * One consistent snapshot to read from, with the text forms fixed whatever the
 * server's settings: UTC timestamps, ISO dates, hex bytea.
 */
async function inSnapshot<T>(db: DB, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel('repeatable read').execute(async (tx) => {
    await sql`set local timezone = 'UTC'`.execute(tx);
    await sql`set local datestyle = 'ISO, YMD'`.execute(tx);
    await sql`set local intervalstyle = 'postgres'`.execute(tx);
    await sql`set local bytea_output = 'hex'`.execute(tx);
    await sql`set local extra_float_digits = 3`.execute(tx);
    return fn(tx);
  });
}

async function appliedMigrations(db: DB | Tx): Promise<Array<{ version: string; checksum: string }>> {
  const result = await sql<{ version: string; checksum: string }>`select version, checksum from schema_migrations order by version`.execute(db);
  return result.rows;
}

export async function countRows(db: DB | Tx, tables: TableInfo[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const table of tables) {
    const result = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(table.name)}`.execute(db);
    counts.set(table.name, Number(result.rows[0]!.n));
  }
  return counts;
}

/** Writes a backup of every table to file; returns each table's row count and digest. */
export async function backupDatabase(handle: DatabaseHandle, file: string, options: { app: string; onProgress?: Progress }): Promise<TableSummary[]> {
  const partial = `${file}.partial`;
  // A backup holds every password hash and token digest: only its owner may read it, whatever the umask.
  // A partial file left by a crash is removed first, so 'wx' creates a fresh one with our mode (and never follows a planted link).
  fs.rmSync(partial, { force: true });
  // Opened here, so a directory we cannot write to is an error of this call rather than of the stream.
  const out = fs.createWriteStream(partial, { fd: fs.openSync(partial, 'wx', 0o600) });
  const gzip = file.endsWith('.gz') ? createGzip({ level: 6 }) : undefined;
  if (gzip) gzip.pipe(out);
  const sink = gzip ?? out;
  const write = async (line: string): Promise<void> => {
    if (!sink.write(`${line}\n`)) await once(sink, 'drain');
  };
  try {
    const summaries = await inSnapshot(handle.db, async (tx) => {
      const tables = await listTables(tx);
      const counts = await countRows(tx, tables);
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const header: BackupHeader = {
        format: BACKUP_FORMAT,
        formatVersion: BACKUP_FORMAT_VERSION,
        app: options.app,
        engine: handle.engine,
        createdAt: new Date().toISOString(),
        migrations: await appliedMigrations(tx),
        tables: tables.map((t) => t.name),
      };
      const result: TableSummary[] = [];
      let done = 0;
      options.onProgress?.({ phase: 'backup', done, total });
      await write(JSON.stringify(header));
      for (const table of tables) {
        await write(JSON.stringify({ table: table.name, columns: table.columns, types: table.types }));
        const digest = new Digest();
        for await (const row of tableRows(tx, table)) {
          const line = JSON.stringify(row);
          digest.add(line);
          await write(line);
          if (++done % 1000 === 0) options.onProgress?.({ phase: 'backup', table: table.name, done, total });
        }
        await write(JSON.stringify({ end: table.name, rows: digest.rows, digest: digest.hex() }));
        result.push({ table: table.name, rows: digest.rows, digest: digest.hex() });
      }
      await write(JSON.stringify({ done: true, tables: tables.length, rows: done }));
      options.onProgress?.({ phase: 'backup', done, total: Math.max(total, done) });
      return result;
    });
    sink.end();
    await once(out, 'finish');
    fs.renameSync(partial, file);
    return summaries;
  } catch (error) {
    sink.destroy();
    out.destroy();
    fs.rmSync(partial, { force: true });
    throw error;
  }
}

/** Row count and digest of every table, computed the same way as the backup's. */
export async function summarizeDatabase(db: DB, onProgress?: Progress): Promise<TableSummary[]> {
  return inSnapshot(db, async (tx) => {
    const tables = await listTables(tx);
    const summaries: TableSummary[] = [];
    let done = 0;
    for (const table of tables) {
      const digest = new Digest();
      for await (const row of tableRows(tx, table)) {
        digest.add(JSON.stringify(row));
        if (++done % 1000 === 0) onProgress?.({ phase: 'verify', table: table.name, done, total: 0 });
      }
      summaries.push({ table: table.name, rows: digest.rows, digest: digest.hex() });
    }
    return summaries;
  });
}

export class BackupError extends Error {}

async function* lines(file: string): AsyncGenerator<string> {
  const input = fs.createReadStream(file);
  const stream = file.endsWith('.gz') ? input.pipe(createGunzip()) : input;
  const reader = readline.createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of reader) if (line.length > 0) yield line;
}

export interface RestoreResult {
  header: BackupHeader;
  expected: TableSummary[];
  actual: TableSummary[];
  ok: boolean;
}

/**
 * Restores a backup into a database already migrated to the same schema.
 * Refuses a target with any data unless force (which empties it first). The load
 * runs in one transaction with triggers off (session_replication_role = replica,
 * so the connection must be a superuser's, as PGlite's always is): all of it or nothing.
 */
export async function restoreDatabase(
  handle: DatabaseHandle,
  file: string,
  options: { force?: boolean; onProgress?: Progress },
): Promise<RestoreResult> {
  const { db } = handle;
  const iterator = lines(file)[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw new BackupError(`${file} is empty`);
  let header: BackupHeader;
  try {
    header = JSON.parse(first.value) as BackupHeader;
  } catch {
    throw new BackupError(`${file} is not a SampleBank backup (the first line is not JSON)`);
  }
  if (header.format !== BACKUP_FORMAT) throw new BackupError(`${file} is not a SampleBank backup`);
  if (header.formatVersion !== BACKUP_FORMAT_VERSION) throw new BackupError(`${file} has backup format ${header.formatVersion}; this version reads ${BACKUP_FORMAT_VERSION}`);
  const target = await appliedMigrations(db);
  const same = target.length === header.migrations.length && target.every((m, i) => m.version === header.migrations[i]!.version && m.checksum === header.migrations[i]!.checksum);
  if (!same) {
    const have = target.at(-1)?.version ?? 'none';
    const want = header.migrations.at(-1)?.version ?? 'none';
    throw new BackupError(`The backup's schema (migrations up to ${want}, ${header.migrations.length} in all) differs from this database's (up to ${have}, ${target.length}); restore with the SampleBank version that made the backup.`);
  }

  const tables = new Map((await listTables(db)).map((t) => [t.name, t]));
  const counts = await countRows(db, [...tables.values()]);
  const nonEmpty = [...counts].filter(([, n]) => n > 0);
  if (nonEmpty.length > 0 && !options.force) {
    throw new BackupError(`The target database is not empty (${nonEmpty.map(([t, n]) => `${t}: ${n}`).join(', ')}); restore only into an empty database, or pass --force to replace its contents.`);
  }

  const expected: TableSummary[] = [];
  let total = 0;
  await db.transaction().execute(async (tx) => {
    await sql`set local session_replication_role = replica`.execute(tx);
    if (nonEmpty.length > 0) await sql.raw(`truncate ${[...tables.keys()].map(quote).join(', ')}`).execute(tx);
    let current: { info: TableInfo; columns: string[]; types: string[]; digest: Digest; batch: Array<Array<string | null>> } | undefined;
    const flush = async (): Promise<void> => {
      if (!current || current.batch.length === 0) return;
      const { columns, types, batch } = current;
      const params: Array<string | null> = [];
      const values = batch
        .map((row) => `(${row.map((value, i) => {
          params.push(value);
          return `$${params.length}::${types[i]}`;
        }).join(', ')})`)
        .join(', ');
      await tx.executeQuery(CompiledQuery.raw(`insert into ${quote(current.info.name)} (${columns.map(quote).join(', ')}) overriding system value values ${values}`, params));
      total += batch.length;
      options.onProgress?.({ phase: 'restore', table: current.info.name, done: total, total: 0 });
      current.batch = [];
    };
    let finished = false;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const line = next.value;
      if (line.startsWith('[')) {
        if (!current) throw new BackupError('A row comes before its table header');
        const row = JSON.parse(line) as Array<string | null>;
        if (row.length !== current.columns.length) throw new BackupError(`A row of ${current.info.name} has ${row.length} values for ${current.columns.length} columns`);
        current.digest.add(line);
        current.batch.push(row);
        if (current.batch.length >= Math.max(1, Math.floor(Math.min(INSERT_BATCH, 30_000 / current.columns.length)))) await flush();
        continue;
      }
      const meta = JSON.parse(line) as { table?: string; columns?: string[]; types?: string[]; end?: string; rows?: number; digest?: string; done?: boolean };
      if (meta.table) {
        const info = tables.get(meta.table);
        if (!info) throw new BackupError(`The backup has a table ${meta.table} this database does not`);
        const columns = meta.columns ?? [];
        const missing = columns.filter((c) => !info.columns.includes(c));
        if (missing.length > 0) throw new BackupError(`${meta.table}: columns ${missing.join(', ')} do not exist here`);
        current = { info, columns, types: columns.map((c) => info.types[info.columns.indexOf(c)]!), digest: new Digest(), batch: [] };
      } else if (meta.end) {
        await flush();
        if (!current || current.info.name !== meta.end) throw new BackupError(`Unexpected end of table ${meta.end}`);
        if (current.digest.rows !== meta.rows || current.digest.hex() !== meta.digest) {
          throw new BackupError(`The backup file is damaged: table ${meta.end} holds ${current.digest.rows} rows with digest ${current.digest.hex()}, its trailer says ${meta.rows} and ${meta.digest}`);
        }
        expected.push({ table: meta.end, rows: meta.rows, digest: meta.digest });
        current = undefined;
      } else if (meta.done) {
        finished = true;
      }
    }
    if (!finished) throw new BackupError('The backup file ends early (no final line): it is incomplete');
    await resetSequences(tx, [...tables.values()]);
  });

  const actual = await summarizeDatabase(db, options.onProgress);
  const byTable = new Map(actual.map((s) => [s.table, s]));
  const ok = expected.every((e) => byTable.get(e.table)?.rows === e.rows && byTable.get(e.table)?.digest === e.digest) &&
    actual.every((a) => a.rows === 0 || expected.some((e) => e.table === a.table));
  return { header, expected, actual, ok };
}

/** Identity and serial columns continue after the restored rows. */
async function resetSequences(tx: Tx, tables: TableInfo[]): Promise<void> {
  for (const table of tables) {
    for (const column of table.columns) {
      const seq = await sql<{ s: string | null }>`select pg_get_serial_sequence(${quote(table.name)}, ${column}) as s`.execute(tx);
      const name = seq.rows[0]?.s;
      if (!name) continue;
      await sql.raw(`select setval('${name.replace(/'/g, "''")}', coalesce((select max(${quote(column)}) from ${quote(table.name)}), 1), (select count(*) > 0 from ${quote(table.name)}))`).execute(tx);
    }
  }
}
