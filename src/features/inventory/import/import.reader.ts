/**
 * Reads a CSV or XLSX file as a stream of rows of text, never holding the file
 * in memory. Every cell becomes a string: an XLSX number becomes the shortest
 * decimal that reads back as the same double (what the person typed), so a
 * quantity is still parsed exactly from text afterwards.
 */
import fs from 'node:fs';
import { Transform, type Stream } from 'node:stream';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import { DomainError } from '../../../core/errors.js';

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
  const input = fs.createReadStream(file).pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        counter.bytes += chunk.length;
        callback(null, chunk);
      },
    }),
  );
  const rows = format === 'csv' ? csvRows(input) : xlsxRows(input);
  const first = await rows.next();
  if (first.done) {
    await rows.return(undefined);
    return { header: [], rows: emptyRows() };
  }
  return { header: first.value.cells.map((name) => name.trim()), rows };
}

async function* emptyRows(): AsyncGenerator<SheetRow> {}

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

async function* xlsxRows(input: NodeJS.ReadableStream): AsyncGenerator<SheetRow> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input as unknown as Stream, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'ignore',
  });
  let headerAt: number | undefined;
  let last = 0;
  try {
    for await (const sheet of reader) {
      for await (const row of sheet) {
        const values = (row.values as unknown[]).slice(1).map(cellText);
        if (values.every((v) => v === '')) continue;
        headerAt ??= row.number;
        last = row.number - headerAt;
        yield { row: last, cells: values };
      }
      // Only the first worksheet holds the samples.
      break;
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw unreadable('XLSX', error, last + 1);
  }
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return numberText(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const v = value as { richText?: Array<{ text: string }>; text?: unknown; result?: unknown; error?: string };
    if (v.richText) return v.richText.map((part) => part.text).join('');
    if ('result' in v) return cellText(v.result);
    if (v.text !== undefined) return cellText(v.text);
    if (v.error) return v.error;
  }
  return String(value);
}

/** Plain decimal text, never exponent form (1e-7 becomes "0.0000001"). */
function numberText(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  const [mantissa, exponentText] = text.toLowerCase().split('e') as [string, string];
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const [whole, fraction = ''] = mantissa.replace('-', '').split('.') as [string, string?];
  const digits = whole + fraction;
  const point = whole.length + exponent;
  const body =
    point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? digits + '0'.repeat(point - digits.length) : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return (negative ? '-' : '') + body;
}
