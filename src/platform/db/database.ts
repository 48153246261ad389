import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { PGliteDialect } from './pglite-dialect.js';
import { PostgresCopyDialect } from './postgres-dialect.js';
import { acquireDataDirLock, type DataDirLock } from './lock.js';
import { DurableNodeFS, durableStartParams, flushFolder } from './pglite-durable.js';

export type Engine = 'pglite' | 'postgres';
export type DB = Kysely<Database>;

/** How the connections are used right now (read by /metrics at scrape time). */
export interface ConnectionUse {
  /** Connections open (PGlite: its one). */
  total: number;
  idle: number;
  /** Queries or transactions waiting for a connection. */
  waiting: number;
  max: number;
}

export interface DatabaseHandle {
  db: DB;
  engine: Engine;
  connections(): ConnectionUse;
  /** Where the embedded database lives (pglite only). */
  dataDir?: string;
  pglite?: PGlite;
  close(): Promise<void>;
}

export interface OpenOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  poolSize?: number;
}

const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;
const identity = (value: string): string => value;

/** Opens PostgreSQL when a URL is given, otherwise the embedded PGlite in dataDir. */
export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options.poolSize) : openPglite(options.dataDir);
}

async function openPostgres(url: string, poolSize = 20): Promise<DatabaseHandle> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8 || oid === NUMERIC || oid === DATE ? identity : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on the next checkout.
  });
  const db = new Kysely<Database>({ dialect: new PostgresCopyDialect(pool) });
  return {
    db,
    engine: 'postgres',
    connections: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: poolSize }),
    async close() {
      await db.destroy();
    },
  };
}

/** ':memory:' keeps the embedded database in memory (tests, throw-away runs). */
export const IN_MEMORY = ':memory:';

async function openPglite(dataDir: string): Promise<DatabaseHandle> {
  const inMemory = dataDir === IN_MEMORY;
  if (!inMemory) fs.mkdirSync(dataDir, { recursive: true });
  const pgdata = inMemory ? undefined : path.join(dataDir, 'pgdata');
  const lock: DataDirLock = inMemory ? { release() {} } : acquireDataDirLock(dataDir);
  let pglite: PGlite;
  try {
    const fresh = pgdata !== undefined && !fs.existsSync(path.join(pgdata, 'PG_VERSION'));
    pglite = await PGlite.create({
      // On a folder: fsync on, synchronous WAL writes and a filesystem that can fsync (see pglite-durable.ts).
      ...(pgdata ? { fs: new DurableNodeFS(pgdata), startParams: durableStartParams() } : {}),
      relaxedDurability: false,
      parsers: { [INT8]: identity, [NUMERIC]: identity, [DATE]: identity },
    });
    if (fresh) flushFolder(pgdata);
  } catch (error) {
    lock.release();
    throw error;
  }
  const dialect = new PGliteDialect(pglite);
  const db = new Kysely<Database>({ dialect });
  let closed = false;
  return {
    db,
    engine: 'pglite',
    connections: () => ({ total: closed ? 0 : 1, idle: closed || dialect.use.busy ? 0 : 1, waiting: dialect.use.waiting, max: 1 }),
    ...(inMemory ? {} : { dataDir }),
    pglite,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      await pglite.close();
      lock.release();
    },
  };
}
