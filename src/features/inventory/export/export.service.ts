/**
 * Export of a collection's samples as CSV or XLSX, streamed page by page so a
 * collection of any size leaves memory flat. Quantities are written as exact
 * decimal text (a text cell in XLSX), never as a number a spreadsheet might round.
 * No cell ever becomes a formula: CSV cells go through the shared neutralising
 * encoder (core/csv.ts), XLSX cells are written as string cells.
 */
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { Actor } from '../../../core/actor.js';
import { csvLine, type CsvColumn } from '../../../core/csv.js';
import { notFound } from '../../../core/errors.js';
import { authorize } from '../../../core/policy.js';
import { formatQuantity } from '../../../core/quantity.js';
import type { DB } from '../../../platform/db/database.js';
import { exportRepository } from './export.repository.js';

export type ExportFormat = 'csv' | 'xlsx';

/** The fixed columns, in order; attributes follow, one column per key. */
export const exportColumns = ['identifier', 'kind', 'quantity', 'unit', 'state', 'parent', 'location', 'position'] as const;

export interface ExportTable {
  collection: { id: string; code: string; unit: string; scale: number };
  header: string[];
  /**
   * Header names of the columns whose every cell the product formats itself as
   * a decimal (a quantity, a count): in CSV a negative figure there stays a
   * number. Every other column may hold user text and is neutralised in full.
   */
  numeric?: readonly string[];
  rows: AsyncGenerator<string[]>;
}

const PAGE = 1000;

export type ExportService = ReturnType<typeof createExportService>;

export function createExportService(db: DB) {
  async function table(actor: Actor | null, by: { id?: string; code?: string }): Promise<ExportTable> {
    authorize(actor, 'sample.export');
    const collection = await exportRepository.findCollection(db, by);
    if (!collection) throw notFound('The collection', by.id ? 'collectionId' : 'collection');
    const keys = await exportRepository.attributeKeys(db, collection.id);
    const paths = locationPaths(await exportRepository.locations(db));
    const fixed = new Set<string>(exportColumns);
    // An attribute named like a fixed column keeps its data under a prefixed name.
    const header = [...exportColumns, ...keys.map((k) => (fixed.has(k) ? `attributes.${k}` : k))];
    async function* rows(): AsyncGenerator<string[]> {
      let after: string | null = null;
      for (;;) {
        const page = await exportRepository.page(db, collection!.id, after, PAGE);
        for (const s of page) {
          yield [
            s.identifier,
            s.kind,
            formatQuantity(s.quantity, collection!.scale),
            collection!.unit,
            s.state,
            s.parent_identifier ?? '',
            s.location_id ? (paths.get(s.location_id) ?? '') : '',
            s.position ?? '',
            ...keys.map((k) => textOf(s.attributes[k])),
          ];
        }
        if (page.length < PAGE) return;
        after = page.at(-1)!.identifier;
      }
    }
    // Only the fixed quantity column: an attribute of that name was renamed above, and attributes are user text.
    return { collection, header, numeric: ['quantity'], rows: rows() };
  }

  return {
    table,

    /** Writes the table to out; a CSV leaves out open, an XLSX ends it (the zip writer does). */
    async write(actor: Actor | null, by: { id?: string; code?: string }, format: ExportFormat, out: Writable): Promise<{ samples: number }> {
      return writeTable(await table(actor, by), format, out);
    },
  };
}

export function writeTable({ header, numeric = [], rows }: ExportTable, format: ExportFormat, out: Writable): Promise<{ samples: number }> {
  // The first column of a name is the product's; a later one of the same name (an attribute) stays text.
  const columns = header.map((name, i): CsvColumn => (numeric.includes(name) && header.indexOf(name) === i ? 'number' : 'text'));
  return format === 'csv' ? writeCsv(header, columns, rows, out) : writeXlsx(header, rows, out);
}

function textOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function locationPaths(rows: Array<{ id: string; parent_id: string | null; code: string }>): Map<string, string> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const paths = new Map<string, string>();
  const pathOf = (id: string, depth = 0): string => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const row = byId.get(id);
    if (!row || depth > 20) return '';
    const path = row.parent_id ? `${pathOf(row.parent_id, depth + 1)}/${row.code}` : row.code;
    paths.set(id, path);
    return path;
  };
  for (const row of rows) pathOf(row.id);
  return paths;
}

async function writeCsv(header: string[], columns: CsvColumn[], rows: AsyncGenerator<string[]>, out: Writable): Promise<{ samples: number }> {
  let samples = 0;
  const send = async (text: string): Promise<void> => {
    if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
  };
  await send(csvLine(header));
  let chunk = '';
  for await (const row of rows) {
    chunk += csvLine(row, columns);
    samples++;
    if (chunk.length > 64 * 1024) {
      await send(chunk);
      chunk = '';
    }
  }
  if (chunk) await send(chunk);
  return { samples };
}

/**
 * Every cell is a JavaScript string, which exceljs writes as a string cell
 * (`t="str"` with a value and no `<f>`), so `=HYPERLINK(…)` stays the text it
 * is and the value round-trips exactly. exceljs makes a formula only of an
 * object with a `formula` member: String() makes sure none ever reaches it.
 */
async function writeXlsx(header: string[], rows: AsyncGenerator<string[]>, out: Writable): Promise<{ samples: number }> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: false });
  const sheet = workbook.addWorksheet('samples');
  sheet.addRow(header.map(String)).commit();
  let samples = 0;
  for await (const row of rows) {
    sheet.addRow(row.map(String)).commit();
    samples++;
  }
  sheet.commit();
  await workbook.commit();
  return { samples };
}
