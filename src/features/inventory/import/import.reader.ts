/**
 * Reads a CSV or XLSX file as a stream of rows of text, never holding the file
 * in memory. Every cell becomes a string: an XLSX number becomes the shortest
 * decimal that reads back as the same double (what the person typed), so a
 * quantity is still parsed exactly from text afterwards. An XLSX is read by
 * the bounded reader of platform/xlsx, which refuses a zip bomb with a
 * payload-too-large problem on the field "file".
 */
import fs from 'node:fs';
import { Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { DomainError } from '../../../core/errors.js';
import { inspectXlsx, readXlsxRows, XLSX_LIMITS, XlsxLimitError } from '../../../platform/xlsx/workbook.js';

export type FileFormat = 'csv' | 'xlsx';

export interface SheetRow {
  /** Data row number, counting from 1 after the header. */
  row: number;
  cells: string[];
}

export interface RowSource {
  header: string[];
  rows: AsyncGenerator<SheetRow>;
}

export function formatOf(fileName: string): FileFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv') || lower.endsWith('.txt')) return 'csv';
  if (lower.endsWith('.xlsx')) return 'xlsx';
  return undefined;
}

/** Counts the bytes read from the file, for progress. */
export interface ByteCounter {
  bytes: number;
}

export async function openRows(file: string, format: FileFormat, counter: ByteCounter = { bytes: 0 }): Promise<RowSource> {
  const rows = format === 'csv' ? csvRows(counted(file, counter)) : xlsxRows(file, counter);
  const first = await rows.next();
  if (first.done) {
    await rows.return(undefined);
    return { header: [], rows: emptyRows() };
  }
  return { header: first.value.cells.map((name) => name.trim()), rows };
}

async function* emptyRows(): AsyncGenerator<SheetRow> {}

function counted(file: string, counter: ByteCounter): NodeJS.ReadableStream {
  return fs.createReadStream(file).pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        counter.bytes += chunk.length;
        callback(null, chunk);
      },
    }),
  );
}

async function* csvRows(input: NodeJS.ReadableStream): AsyncGenerator<SheetRow> {
  const parser = input.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true }));
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      yield { row: row++, cells: record };
    }
  } catch (error) {
    throw unreadable('CSV', error, row);
  }
}

/** A file the parser gives up on is the user's to fix: a problem naming where, never a 500. */
function unreadable(kind: string, error: unknown, row: number): DomainError {
  const reason = error instanceof Error ? error.message : String(error);
  const message = `the ${kind} file cannot be read after data row ${Math.max(0, row - 1)}: ${reason}`;
  return new DomainError('validation-failed', message, { errors: [{ field: 'file', message }] });
}

async function* xlsxRows(file: string, counter: ByteCounter): AsyncGenerator<SheetRow> {
  let headerAt: number | undefined;
  let last = 0;
  try {
    for await (const row of readXlsxRows(file, XLSX_LIMITS, (bytes) => (counter.bytes += bytes))) {
      if (row.cells.every((v) => v === '')) continue;
      headerAt ??= row.number;
      last = row.number - headerAt;
      yield { row: last, cells: row.cells };
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    if (error instanceof XlsxLimitError) throw tooLarge(error);
    throw unreadable('XLSX', error, last + 1);
  }
}

/** A spreadsheet beyond the reader's limits (a zip bomb, or just too big): refused before it costs memory. */
function tooLarge(error: XlsxLimitError): DomainError {
  return new DomainError('payload-too-large', error.message, { errors: [{ field: 'file', message: error.message }], extensions: { limit: error.limit } });
}

/**
 * Checks what an .xlsx declares about itself against the limits, inflating
 * only its small index parts, so an oversized file is refused before a job
 * starts. A file that cannot be read at all is left for the import to report.
 */
export async function checkSpreadsheet(file: string, format: FileFormat): Promise<void> {
  if (format !== 'xlsx') return;
  try {
    await inspectXlsx(file, XLSX_LIMITS);
  } catch (error) {
    if (error instanceof XlsxLimitError) throw tooLarge(error);
  }
}
