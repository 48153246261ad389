/** How far a spreadsheet may go before it is refused (see workbook.ts for why each exists). */
export interface XlsxLimits {
  /** Inflated bytes of the parts read, together. Streamed, so this bounds time (a full 1,048,576-row sheet is a few hundred MB). */
  totalBytes: number;
  /** Inflated bytes of the shared-string table: the one part held in memory. */
  sharedStringsBytes: number;
  /** Strings in that table. */
  sharedStrings: number;
  /** Rows of the sheet (Excel's own maximum). */
  rows: number;
  /** Columns of a row (Excel's own maximum, XFD). */
  columns: number;
  /** Characters in a cell (Excel's own maximum). */
  cellChars: number;
  /** Characters in a row, all cells together: one row is spelled out at a time. */
  rowChars: number;
}

export const MB = 1024 * 1024;

export const XLSX_LIMITS: Readonly<XlsxLimits> = {
  totalBytes: 1024 * MB,
  sharedStringsBytes: 64 * MB,
  sharedStrings: 2_000_000,
  rows: 1_048_576,
  columns: 16_384,
  cellChars: 32_767,
  rowChars: MB,
};

/** A limit the file goes beyond; the message says which, for a person. */
export class XlsxLimitError extends Error {
  override name = 'XlsxLimitError';
  constructor(
    readonly limit: keyof XlsxLimits,
    message: string,
  ) {
    super(message);
  }
}


export function rowTooLong(row: number, limits: XlsxLimits): XlsxLimitError {
  return new XlsxLimitError('rowChars', `Row ${row} of the spreadsheet holds more than ${limits.rowChars.toLocaleString('en')} characters; shorten it or split it across rows`);
}
