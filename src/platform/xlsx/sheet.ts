/**
 * The cells of a worksheet's XML, row by row. A cell becomes text the way a
 * person typed it: a number as the shortest decimal that reads back as the same
 * double (never exponent form), a boolean as true/false, a formula as its
 * cached result, an error as its code (#N/A). A shared string stays an index
 * until the row is handed over (see workbook.ts).
 */
import type { XmlHandler } from './xml.js';
import { rowTooLong, XlsxLimitError, type XlsxLimits } from './limits.js';

export interface PendingRow {
  number: number;
  /** Text, or the index of a shared string; holes are empty cells. */
  cells: Array<string | number | undefined>;
}

export class SheetHandler implements XmlHandler {
  private row: PendingRow | undefined;
  private rows = 0;
  private lastRow = 0;
  private column = 0;
  private type = 'n';
  private value: string[] = [];
  private length = 0;
  private rowChars = 0;
  private capture: 'v' | 'is' | undefined;
  private inText = false;
  /** Inside a phonetic run (<rPh>: Japanese reading aids), which is not part of the text. */
  private phonetic = false;

  constructor(
    private readonly queue: PendingRow[],
    private readonly limits: XlsxLimits,
  ) {}

  open(name: string, a: Record<string, string>): void {
    if (name === 'row') {
      const number = a.r ? Number.parseInt(a.r, 10) : this.lastRow + 1;
      if (++this.rows > this.limits.rows || !(number <= this.limits.rows)) {
        throw new XlsxLimitError('rows', `The spreadsheet has more than ${this.limits.rows.toLocaleString('en')} rows; split it into smaller files`);
      }
      this.row = { number, cells: [] };
      this.rowChars = 0;
      this.lastRow = number;
      this.column = 0;
    } else if (name === 'c' && this.row) {
      const letters = /^[A-Za-z]+/.exec(a.r ?? '')?.[0];
      this.column = letters ? columnIndex(letters) : this.column + 1;
      if (this.column > this.limits.columns) {
        throw new XlsxLimitError('columns', `Row ${this.row.number} of the spreadsheet has more than ${this.limits.columns.toLocaleString('en')} columns; leave out the columns you do not import`);
      }
      this.type = a.t ?? 'n';
      this.value = [];
      this.length = 0;
    } else if (name === 'v' && this.row) this.capture = 'v';
    else if (name === 'is' && this.row) this.capture = 'is';
    else if (name === 't' && this.capture === 'is' && !this.phonetic) this.inText = true;
    else if (name === 'rPh') this.phonetic = true;
  }

  close(name: string): void {
    if (name === 'v' || name === 'is') this.capture = undefined;
    else if (name === 't') this.inText = false;
    else if (name === 'rPh') this.phonetic = false;
    else if (name === 'c' && this.row) {
      const value = this.cell();
      // Text held until the row ends counts now (a row that never ends must not grow without bound); shared strings count when spelled out.
      if (typeof value === 'string' && (this.rowChars += value.length) > this.limits.rowChars) throw rowTooLong(this.row.number, this.limits);
      this.row.cells[this.column - 1] = value;
    } else if (name === 'row' && this.row) {
      this.queue.push(this.row);
      this.row = undefined;
    }
  }

  wantsText(): boolean {
    return this.capture === 'v' || (this.capture === 'is' && this.inText);
  }

  text(piece: string): void {
    this.length += piece.length;
    if (this.length > this.limits.cellChars) {
      throw new XlsxLimitError('cellChars', `A cell in row ${this.row!.number} of the spreadsheet holds more than ${this.limits.cellChars.toLocaleString('en')} characters (the most a spreadsheet cell holds); shorten it`);
    }
    this.value.push(piece);
  }

  private cell(): string | number | undefined {
    const text = this.value.join('');
    switch (this.type) {
      case 's': {
        const index = Number.parseInt(text, 10);
        return Number.isNaN(index) ? undefined : index;
      }
      case 'b':
        return text === '' ? '' : Number.parseInt(text, 10) !== 0 ? 'true' : 'false';
      case 'inlineStr':
      case 'str':
      case 'e':
      case 'd':
        return text;
      default:
        return text.trim() === '' ? '' : numberText(Number.parseFloat(text), text);
    }
  }
}

function columnIndex(letters: string): number {
  let index = 0;
  for (const c of letters.toUpperCase()) {
    index = index * 26 + (c.charCodeAt(0) - 64);
    if (index > 1_000_000) return index;
  }
  return index;
}

/** Plain decimal text, never exponent form (1e-7 becomes "0.0000001"); what is not a number stays as written. */
export function numberText(value: number, written: string): string {
  if (!Number.isFinite(value)) return written;
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
