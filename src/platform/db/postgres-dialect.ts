/**
 * Kysely's PostgreSQL dialect with one addition: its connections carry out
 * copy requests (copy.ts) as COPY FROM STDIN on their own pg client, so a
 * bulk write runs inside the caller's transaction. Kysely's connection keeps
 * its client private, hence this connection class; transactions, savepoints
 * and pool shutdown are Kysely's own driver's.
 */
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PostgresDialect, PostgresDriver, type DatabaseConnection, type Driver, type QueryResult, type CompiledQuery } from 'kysely';
import type pg from 'pg';
import pgCopyStreams from 'pg-copy-streams';
import { copyRequestOf, copyStatement, type CopyRequest } from './copy.js';

class PostgresCopyConnection implements DatabaseConnection {
  constructor(readonly client: pg.PoolClient) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const caller = new Error();
    try {
      const copy = copyRequestOf(compiled);
      if (copy) return { rows: [], numAffectedRows: BigInt(await this.copyFrom(copy)) };
      const { command, rowCount, rows } = await this.client.query<R & pg.QueryResultRow>(compiled.sql, [...compiled.parameters]);
      return {
        numAffectedRows: command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE' ? BigInt(rowCount ?? 0) : undefined,
        rows: rows ?? [],
      };
    } catch (error) {
      throw withCallerStack(error, caller);
    }
  }

  private async copyFrom(request: CopyRequest): Promise<number> {
    const stream: Writable & { rowCount: number } = this.client.query(pgCopyStreams.from(copyStatement(request, 'stdin')));
    // Chunks are written as the consumer takes them (back-pressure); an error on either side aborts the COPY (CopyFail).
    await pipeline(request.chunks, stream);
    return stream.rowCount;
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming query results is not set up (no pg-cursor)');
  }
}

/** Like Kysely's: pg's asynchronous errors get the stack of the query's caller. */
function withCallerStack(error: unknown, caller: Error): unknown {
  if (error instanceof Error && error.stack && caller.stack) error.stack += `\n${caller.stack.split('\n').slice(1).join('\n')}`;
  return error;
}

class PostgresCopyDriver extends PostgresDriver {
  readonly #pool: pg.Pool;
  readonly #connections = new WeakMap<pg.PoolClient, PostgresCopyConnection>();

  constructor(pool: pg.Pool) {
    super({ pool });
    this.#pool = pool;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const client = await this.#pool.connect();
    let connection = this.#connections.get(client);
    if (!connection) {
      connection = new PostgresCopyConnection(client);
      this.#connections.set(client, connection);
    }
    return connection;
  }

  override async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PostgresCopyConnection).client.release();
  }
}

export class PostgresCopyDialect extends PostgresDialect {
  constructor(private readonly pool: pg.Pool) {
    super({ pool });
  }

  override createDriver(): Driver {
    return new PostgresCopyDriver(this.pool);
  }
}
