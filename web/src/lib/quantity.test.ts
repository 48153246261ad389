import { describe, expect, it } from 'vitest';
import { formatQuantity, fromWire, parseQuantity, scaleOf, sum } from './quantity';

describe('web quantity helper', () => {
  it('parses decimal strings into exact smallest units', () => {
    expect(parseQuantity('17.4764', 4)).toEqual({ ok: true, value: 174764n });
    expect(parseQuantity('17.5', 4)).toEqual({ ok: true, value: 175000n });
    expect(parseQuantity(' 3 ', 0)).toEqual({ ok: true, value: 3n });
    expect(parseQuantity('1731.0000', 4)).toEqual({ ok: true, value: 17310000n });
  });

  it('refuses more decimals than the scale instead of rounding', () => {
    expect(parseQuantity('0.00001', 4)).toEqual({ ok: false, reason: 'scale' });
    expect(parseQuantity('1.5', 0)).toEqual({ ok: false, reason: 'scale' });
  });

  it('refuses what is not a plain decimal', () => {
    for (const text of ['1e3', '1,5', '.5', '5.', '0x10', 'abc', '1.2.3', 'NaN', 'Infinity']) {
      expect(parseQuantity(text, 4)).toEqual({ ok: false, reason: 'format' });
    }
    expect(parseQuantity('', 4)).toEqual({ ok: false, reason: 'empty' });
    expect(parseQuantity('-1', 4)).toEqual({ ok: false, reason: 'negative' });
    expect(parseQuantity('-0.0010', 4, { signed: true })).toEqual({ ok: true, value: -10n });
  });

  it('formats with exactly the scale, like the API', () => {
    expect(formatQuantity(174764n, 4)).toBe('17.4764');
    expect(formatQuantity(5n, 4)).toBe('0.0005');
    expect(formatQuantity(0n, 4)).toBe('0.0000');
    expect(formatQuantity(-10n, 4)).toBe('-0.0010');
    expect(formatQuantity(12n, 0)).toBe('12');
  });

  it('keeps precision far beyond what a JS number holds', () => {
    const big = '123456789012345678901.123456';
    expect(formatQuantity(fromWire(big), 6)).toBe(big);
    expect(formatQuantity(fromWire('0.1') + fromWire('0.2'), 1)).toBe('0.3');
  });

  it('computes a split remainder exactly', () => {
    const available = fromWire('17.4764');
    const parts = ['5.0000', '2.4764', '0.0001'].map((part) => fromWire(part));
    expect(formatQuantity(available - sum(parts), 4)).toBe('9.9999');
    expect(scaleOf('17.4764')).toBe(4);
    expect(scaleOf('12')).toBe(0);
  });
});
