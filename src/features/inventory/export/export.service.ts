/**
 * Export of a collection's samples as CSV or XLSX, streamed page by page so a
 * collection of any size leaves memory flat. Quantities are written as exact
 * decimal text (a text cell in XLSX), never as a number a spreadsheet might round.
 */
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { Actor } from '../../../core/actor.js';
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
    return { collection, header, rows: rows() };
  }

  return {
    table,

    /** Writes the table to out; a CSV leaves out open, an XLSX ends it (the zip writer does). */
    async write(actor: Actor | null, by: { id?: string; code?: string }, format: ExportFormat, out: Writable): Promise<{ samples: number }> {
      return writeTable(await table(actor, by), format, out);
    },
  };
}

export function writeTable({ header, rows }: ExportTable, format: ExportFormat, out: Writable): Promise<{ samples: number }> {
  return format === 'csv' ? writeCsv(header, rows, out) : writeXlsx(header, rows, out);
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

export function csvLine(cells: string[]): string {
  return cells.map((c) => (/[",\r\n]|^\s|\s$/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',') + '\r\n';
}

async function writeCsv(header: string[], rows: AsyncGenerator<string[]>, out: Writable): Promise<{ samples: number }> {
  let samples = 0;
  const send = async (text: string): Promise<void> => {
    if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
  };
  await send(csvLine(header));
  let chunk = '';
  for await (const row of rows) {
    chunk += csvLine(row);
    samples++;
    if (chunk.length > 64 * 1024) {
      await send(chunk);
      chunk = '';
    }
  }
  if (chunk) await send(chunk);
  return { samples };
}

async function writeXlsx(header: string[], rows: AsyncGenerator<string[]>, out: Writable): Promise<{ samples: number }> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: false });
  const sheet = workbook.addWorksheet('samples');
  sheet.addRow(header).commit();
  let samples = 0;
  for await (const row of rows) {
    sheet.addRow(row).commit();
    samples++;
  }
  sheet.commit();
  await workbook.commit();
  return { samples };
}
