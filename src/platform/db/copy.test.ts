import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyField, copyLine } from './copy.js';

/**
 * PostgreSQL's reading of one COPY text field (copyfromparse.c, CopyReadAttributesText),
 * written from the documentation: \N alone is NULL; a backslash followed by
 * b f n r t v is that control character, by 1-3 octal digits or x and 1-2 hex
 * digits that byte, by anything else that character itself.
 */
function readField(field: string): string | null {
  if (field === '\\N') return null;
  const bytes: number[] = [];
  const push = (text: string): void => {
    for (const b of Buffer.from(text, 'utf8')) bytes.push(b);
  };
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (c !== '\\') {
      const code = field.codePointAt(i)!;
      const char = String.fromCodePoint(code);
      push(char);
      i += char.length - 1;
      continue;
    }
    const next = field[++i];
    if (next === undefined) throw new Error('a field ends with a lone backslash');
    const controls: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
    if (next in controls) push(controls[next]!);
    else if (/[0-7]/.test(next) || next === 'x') throw new Error(`copyField never writes a numeric escape (\\${next})`);
    else push(next);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A line as PostgreSQL splits it: on unescaped tabs, up to the newline. */
function readLine(line: string): Array<string | null> {
  expect(line.endsWith('\n')).toBe(true);
  const body = line.slice(0, -1);
  expect(body).not.toMatch(/[\n\r]/);
  return body.split('\t').map(readField);
}

const NASTY = [
  '',
  ' ',
  'plain',
  'tab\there',
  'line\nbreak',
  'windows\r\nline',
  'lone\rreturn',
  'back\\slash',
  '\\',
  '\\\\',
  '\\N',
  'N',
  '\\.',
  '.',
  'ends with backslash\\',
  '\\t is not a tab',
  '\\x41 \\101 are not A',
  'form\ffeed, vertical\vtab, back\bspace',
  '{"json": "with \\"quotes\\" and \\\\ and \\n"}',
  '"quoted", \'single\', `back`',
  '中文 / 日本語 / 한국어',
  'emoji 🧪🌕 and combining é',
  'right-to-left \u202e override',
  'zero width\u200bjoiner',
  '\u2028line separator\u2029',
  '\u0001\u001f control',
  '\u007f delete',
];

describe('COPY text format', () => {
  it('escapes backslash, tab and line breaks, and nothing a reader would misread', () => {
    expect(copyField('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyField('\\N')).toBe('\\\\N');
    expect(copyField('\\.')).toBe('\\\\.');
    expect(copyField(null)).toBe('\\N');
    expect(copyField('')).toBe('');
    expect(copyField('中文🧪')).toBe('中文🧪');
    expect(copyField(12n)).toBe('12');
    expect(copyField(7)).toBe('7');
    expect(copyField(true)).toBe('true');
    expect(copyField({ a: 'x\ty', b: null })).toBe('{"a":"x\\\\ty","b":null}');
    expect(copyLine(['a', null, 'b\tc'])).toBe('a\t\\N\tb\\tc\n');
  });

  it('reads back every nasty value exactly, alone and side by side', () => {
    for (const value of NASTY) expect(readLine(copyLine([value]))).toEqual([value]);
    expect(readLine(copyLine(NASTY))).toEqual(NASTY);
    expect(readLine(copyLine([null, 'x', null]))).toEqual([null, 'x', null]);
  });

  it('reads back JSON objects of nasty attributes as the same objects', () => {
    const attributes = Object.fromEntries(NASTY.map((v, i) => [`${v} key ${i}`, v]));
    const [field] = readLine(copyLine([attributes]));
    expect(JSON.parse(field!)).toEqual(attributes);
  });

  it('reads back any string (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.string({ unit: 'grapheme' }), { nil: null }), { minLength: 1, maxLength: 6 }), (values) => {
        expect(readLine(copyLine(values))).toEqual(values);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('\\', '\t', '\n', '\r', 'N', '.', 'x', '0', 'a', '"', '{') }), (value) => {
        expect(readLine(copyLine([value]))).toEqual([value]);
      }),
      { numRuns: 2000 },
    );
  });
});
