/**
 * Bulk writes with COPY ... FROM in PostgreSQL's text format, on both engines:
 * PostgreSQL streams the rows as COPY FROM STDIN (pg-copy-streams, see
 * postgres-dialect.ts); PGlite reads them as the file '/dev/blob' (its `blob`
 * query option, see pglite-dialect.ts).
 *
 * The request travels through Kysely as an ordinary compiled query
 * (tx.executeQuery), so it runs on the transaction's own connection, in its
 * turn, like any other statement; only our two connections know how to carry
 * it out. Repositories name the table, the columns and the rows; this file
 * knows the format.
 */
import { CompiledQuery } from 'kysely';
import type { Database } from './schema.js';
import type { Executor } from './tx.js';

/** One field: strings go as they are, objects and arrays as JSON (for json/jsonb columns), null as NULL. */
export type CopyValue = string | number | bigint | boolean | null | object;

export interface CopyRequest {
  /** `"table" ("column", ...)`, quoted. */
  target: string;
  /** The rows as COPY text, in chunks of whole lines. */
  chunks: readonly string[];
}

const COPY_REQUEST = Symbol('samplebank.copy');

type CopyQuery = CompiledQuery & { readonly [COPY_REQUEST]: CopyRequest };

/** The copy a compiled query carries, if it is one (for the connections). */
export function copyRequestOf(compiled: CompiledQuery): CopyRequest | undefined {
  return (compiled as Partial<CopyQuery>)[COPY_REQUEST];
}

/** The statement that reads a copy request from `source` (`stdin`, or a quoted file name). */
export function copyStatement(request: CopyRequest, source: string): string {
  return `copy ${request.target} from ${source} with (format text, encoding 'UTF8')`;
}

const SPECIAL = /[\\\n\r\t\b\f\v]/;
const SPECIAL_ALL = /[\\\n\r\t\b\f\v]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '\v': '\\v' };

/**
 * One field in COPY text format: backslash, the delimiter (tab) and line
 * breaks escaped with a backslash, so any string, JSON included, reads back
 * exactly; `\N` is NULL. (A NUL character cannot be stored in PostgreSQL text
 * at all, with or without COPY.)
 */
export function copyField(value: CopyValue): string {
  if (value === null) return '\\N';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return SPECIAL.test(text) ? text.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : text;
}

/** One row as a line of COPY text. */
export function copyLine(values: readonly CopyValue[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i === 0 ? '' : '\t') + copyField(values[i]!);
  return `${line}\n`;
}

/** Rows already encoded as COPY text, so the encoding can be done while the database is busy with something else. */
export interface CopyText {
  readonly chunks: readonly string[];
  readonly rows: number;
}

const CHUNK = 1 << 20;

/** Encodes rows now, in chunks of about 1 MB of text; copyRows sends them later. */
export function copyText(rows: Iterable<readonly CopyValue[]>): CopyText {
  const chunks: string[] = [];
  let chunk = '';
  let count = 0;
  for (const row of rows) {
    chunk += copyLine(row);
    count++;
    if (chunk.length >= CHUNK) {
      chunks.push(chunk);
      chunk = '';
    }
  }
  if (chunk !== '') chunks.push(chunk);
  return { chunks, rows: count };
}

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * Writes rows encoded beforehand (copyText) into table with COPY, inside the
 * given transaction (or connection). Each row has one value per column, in the
 * same order; columns left out get their defaults, as with INSERT. Answers the
 * number of rows written.
 */
export async function copyRows<T extends keyof Database & string>(db: Executor, table: T, columns: ReadonlyArray<keyof Database[T] & string>, rows: CopyText): Promise<number> {
  const request: CopyRequest = { target: `${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')})`, chunks: rows.chunks };
  // The SQL is what a driver that does not know copy requests would run: it fails (no data to copy) rather than doing anything else.
  const query: CopyQuery = { ...CompiledQuery.raw(copyStatement(request, 'stdin')), [COPY_REQUEST]: request };
  const result = await db.executeQuery(query);
  return result.numAffectedRows !== undefined ? Number(result.numAffectedRows) : rows.rows;
}
