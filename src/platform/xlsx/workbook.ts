/**
 * Reads the first worksheet of an .xlsx as rows of text, streaming, within
 * limits that keep a hostile file (a zip bomb: a few hundred KB that inflate
 * to gigabytes) from exhausting memory, disk or time:
 *
 * - the parts read (workbook, relationships, shared strings, the sheet) may
 *   inflate to `totalBytes` together, checked against the sizes the ZIP
 *   declares before anything is inflated, and enforced while inflating (a part
 *   that yields more than it declared is refused as corrupt);
 * - the shared-string table, the one thing held in memory, to
 *   `sharedStringsBytes` and `sharedStrings` strings;
 * - `rows` rows, `columns` columns, `cellChars` characters in a cell (Excel's
 *   own limits) and `rowChars` in a row.
 *
 * exceljs's WorkbookReader cannot be bounded: it caches the shared strings
 * without limit, its XML parser holds whole text nodes, it buffers parts
 * without backpressure and spools sheets that come before the shared strings
 * to temporary files of any size.
 */
import type { Readable } from 'node:stream';
import { StringTable } from './strings.js';
import { XmlScanner, type XmlHandler } from './xml.js';
import { openEntry, readEntries, type ZipEntry } from './zip.js';
import { SheetHandler, type PendingRow } from './sheet.js';
import { MB, rowTooLong, XLSX_LIMITS, XlsxLimitError, type XlsxLimits } from './limits.js';

export { XLSX_LIMITS, XlsxLimitError, type XlsxLimits } from './limits.js';

export interface XlsxRow {
  /** The row's number in the sheet, from 1. */
  number: number;
  cells: string[];
}

export interface XlsxParts {
  sheet: ZipEntry;
  sharedStrings: ZipEntry | undefined;
}

const mb = (bytes: number): string => `${Math.round(bytes / MB)} MB`;

/** The workbook and relationship parts: a few KB in real files. */
const INDEX_PART_BYTES = 16 * MB;

/** Finds the first worksheet and the shared strings, and checks their declared sizes; inflates only the small index parts. */
export async function inspectXlsx(file: string, limits: XlsxLimits = XLSX_LIMITS): Promise<XlsxParts> {
  const entries = new Map((await readEntries(file)).map((e) => [e.name.replace(/^\//, ''), e]));
  let budget = limits.totalBytes;
  const read = async (name: string, handler: XmlHandler): Promise<boolean> => {
    const entry = entries.get(name);
    if (!entry) return false;
    // These parts are read before a job starts (while the upload waits for its answer), so they must be small too.
    if (entry.size > INDEX_PART_BYTES) throw new Error(`its part ${name} is larger than ${mb(INDEX_PART_BYTES)}, which no spreadsheet needs`);
    budget -= entry.size;
    if (budget < 0) throw tooLarge(limits);
    await scan(await openEntry(file, entry), handler);
    return true;
  };
  let workbook = 'xl/workbook.xml';
  await read('_rels/.rels', relationships((type, target) => {
    if (type.endsWith('/officeDocument')) workbook = resolve('', target);
  }));
  let firstSheet: string | undefined;
  if (!(await read(workbook, firstSheetOf((id) => (firstSheet = id))))) throw new Error('it has no workbook part');
  const folder = workbook.slice(0, workbook.lastIndexOf('/') + 1);
  let sheetName: string | undefined;
  let stringsName = `${folder}sharedStrings.xml`;
  await read(`${folder}_rels/${workbook.slice(folder.length)}.rels`, relationships((type, target, id) => {
    if (id === firstSheet) sheetName = resolve(folder, target);
    if (type.endsWith('/sharedStrings')) stringsName = resolve(folder, target);
  }));
  const sheet = entries.get(sheetName ?? '') ?? [...entries.values()].filter((e) => /^xl\/worksheets\/sheet\d+\.xml$/.test(e.name)).sort((a, b) => sheetNumber(a) - sheetNumber(b))[0];
  if (!sheet) throw new Error('it has no worksheet');
  const sharedStrings = entries.get(stringsName);
  if (sharedStrings && sharedStrings.size > limits.sharedStringsBytes) throw sharedTooLarge(limits);
  if (sheet.size + (sharedStrings?.size ?? 0) > budget) throw tooLarge(limits);
  return { sheet, sharedStrings };
}

/** The rows of the first worksheet; `onRead` sees the compressed bytes read (for progress). */
export async function* readXlsxRows(file: string, limits: XlsxLimits = XLSX_LIMITS, onRead?: (bytes: number) => void): AsyncGenerator<XlsxRow> {
  const parts = await inspectXlsx(file, limits);
  const strings = new StringTable();
  if (parts.sharedStrings) await scan(await openEntry(file, parts.sharedStrings, onRead), sharedStringsInto(strings, limits));
  const queue: PendingRow[] = [];
  const scanner = new XmlScanner(new SheetHandler(queue, limits));
  const stream = await openEntry(file, parts.sheet, onRead);
  let chars = 0;
  // Rows keep shared-string indexes until they are handed over, so only one row's text is ever spelled out.
  const spell = (row: PendingRow): XlsxRow => {
    chars = 0;
    const cells = Array.from(row.cells, (cell) => {
      const text = typeof cell === 'number' ? (strings.get(cell) ?? '') : (cell ?? '');
      chars += text.length;
      if (chars > limits.rowChars) throw rowTooLong(row.number, limits);
      return text;
    });
    return { number: row.number, cells };
  };
  try {
    for await (const chunk of stream) {
      scanner.write(chunk as Buffer);
      for (const row of queue.splice(0)) yield spell(row);
    }
    scanner.end();
    for (const row of queue.splice(0)) yield spell(row);
  } finally {
    stream.destroy();
  }
}

async function scan(stream: Readable, handler: XmlHandler): Promise<void> {
  const scanner = new XmlScanner(handler);
  try {
    for await (const chunk of stream) scanner.write(chunk as Buffer);
    scanner.end();
  } finally {
    stream.destroy();
  }
}

function tooLarge(limits: XlsxLimits): XlsxLimitError {
  return new XlsxLimitError('totalBytes', `The spreadsheet expands to more than ${mb(limits.totalBytes)}; split it into smaller files, or save it as CSV`);
}

function sharedTooLarge(limits: XlsxLimits): XlsxLimitError {
  return new XlsxLimitError('sharedStringsBytes', `The text of the spreadsheet expands to more than ${mb(limits.sharedStringsBytes)}; split it into smaller files, or save it as CSV`);
}

function sharedStringsInto(strings: StringTable, limits: XlsxLimits): XmlHandler {
  let pieces: string[] | undefined;
  let length = 0;
  let inText = false;
  let phonetic = 0;
  return {
    open(name) {
      if (name === 'si') {
        pieces = [];
        length = 0;
      } else if (name === 'rPh') phonetic++;
      else if (name === 't' && pieces && phonetic === 0) inText = true;
    },
    close(name) {
      if (name === 't') inText = false;
      else if (name === 'rPh') phonetic--;
      else if (name === 'si' && pieces) {
        if (strings.count >= limits.sharedStrings) throw new XlsxLimitError('sharedStrings', `The spreadsheet holds more than ${limits.sharedStrings.toLocaleString('en')} different texts; split it into smaller files, or save it as CSV`);
        strings.add(pieces.join(''));
        pieces = undefined;
      }
    },
    wantsText: () => inText,
    text(piece) {
      length += piece.length;
      if (length > limits.cellChars) throw new XlsxLimitError('cellChars', `A text in the spreadsheet is longer than ${limits.cellChars.toLocaleString('en')} characters (the most a spreadsheet cell holds); shorten it`);
      pieces!.push(piece);
    },
  };
}

function relationships(each: (type: string, target: string, id: string) => void): XmlHandler {
  return {
    open(name, a) {
      if (name === 'Relationship' && a.Target && a.TargetMode !== 'External') each(a.Type ?? '', a.Target, a.Id ?? '');
    },
    close() {},
    wantsText: () => false,
    text() {},
  };
}

function firstSheetOf(found: (id: string) => void): XmlHandler {
  let seen = false;
  return {
    open(name, a) {
      if (name !== 'sheet' || seen) return;
      seen = true;
      const id = Object.entries(a).find(([key]) => key.endsWith(':id'))?.[1];
      if (id) found(id);
    },
    close() {},
    wantsText: () => false,
    text() {},
  };
}

/** A relationship target: absolute from the package root when it starts with '/', else relative to the folder. */
function resolve(folder: string, target: string): string {
  const parts = (target.startsWith('/') ? target.slice(1) : folder + target).split('/');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '..') out.pop();
    else if (part !== '.' && part !== '') out.push(part);
  }
  return out.join('/');
}

const sheetNumber = (e: ZipEntry): number => Number(/(\d+)\.xml$/.exec(e.name)?.[1] ?? 0);
