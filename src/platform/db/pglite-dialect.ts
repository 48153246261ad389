/**
 * Kysely driver for PGlite. PGlite is one connection, so the driver hands it
 * out to one holder at a time: a transaction keeps it until commit or rollback
 * and every other query waits its turn. Nothing can interleave inside a transaction.
 */
import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { copyRequestOf, copyStatement, type CopyRequest } from './copy.js';

class PGliteConnection implements DatabaseConnection {
  constructor(private readonly pg: PGlite) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const copy = copyRequestOf(compiled);
    if (copy) return { rows: [], numAffectedRows: BigInt(await this.copyFrom(copy)) };
    // Without parameters the simple protocol runs whole scripts (migrations, backups).
    const result =
      compiled.parameters.length === 0
        ? ((await this.pg.exec(compiled.sql)).at(-1) as { rows: R[]; affectedRows?: number } | undefined) ?? { rows: [] as R[] }
        : await this.pg.query<R>(compiled.sql, [...compiled.parameters]);
    const affected = result.affectedRows;
    return {
      rows: result.rows,
      ...(affected !== undefined && compiled.query.kind !== 'SelectQueryNode' ? { numAffectedRows: BigInt(affected) } : {}),
    };
  }

  /** PGlite reads COPY data as the file '/dev/blob': the request's rows (one batch, so held in memory) as a Blob. */
  private async copyFrom(request: CopyRequest): Promise<number> {
    const result = await this.pg.query(copyStatement(request, "'/dev/blob'"), [], { blob: new Blob([...request.chunks]) });
    return result.affectedRows ?? 0;
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite does not stream query results');
  }
}

/** Whether the one connection is held and how many wait for it (for /metrics). */
export interface PGliteUse {
  busy: boolean;
  waiting: number;
}

class PGliteDriver implements Driver {
  private readonly connection: PGliteConnection;
  private queue: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;

  constructor(
    private readonly pg: PGlite,
    private readonly use: PGliteUse,
  ) {
    this.connection = new PGliteConnection(pg);
  }

  async init(): Promise<void> {
    await this.pg.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((resolve) => (release = resolve));
    this.use.waiting++;
    await previous;
    this.use.waiting--;
    this.use.busy = true;
    this.release = release;
    return this.connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const isolation = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    await connection.executeQuery(CompiledQuery.raw(`begin${isolation}`));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    const release = this.release;
    this.release = undefined;
    this.use.busy = false;
    release?.();
  }

  async destroy(): Promise<void> {
    // The owner of the PGlite instance closes it; see openDatabase.
  }
}

export class PGliteDialect implements Dialect {
  readonly use: PGliteUse = { busy: false, waiting: 0 };
  constructor(private readonly pg: PGlite) {}
  createAdapter(): PostgresAdapter {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.pg, this.use);
  }
  createIntrospector(db: Kysely<unknown>): PostgresIntrospector {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler(): PostgresQueryCompiler {
    return new PostgresQueryCompiler();
  }
}
