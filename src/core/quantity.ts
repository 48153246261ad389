/**
 * Exact quantities. Inside the system a quantity is a bigint count of the
 * collection's smallest unit (scale 4 in grams means 0.1 mg); on the wire it is
 * a decimal string. Floats never touch a quantity.
 */
import { DomainError } from './errors.js';

export const MAX_SCALE = 6;
/** 18 significant digits keep every quantity inside PostgreSQL's BIGINT. */
const MAX_DIGITS = 18;
const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

export type RoundingMode = 'reject' | 'half-even';

export interface ParseOptions {
  field?: string;
  allowZero?: boolean;
  rounding?: RoundingMode;
}

/** Parses a non-negative decimal string into smallest units, refusing excess decimals unless rounding is asked for. */
export function parseQuantity(text: unknown, scale: number, options: ParseOptions = {}): bigint {
  const field = options.field ?? 'quantity';
  const fail = (message: string): never => {
    throw new DomainError('invalid-quantity', message, { errors: [{ field, message }] });
  };
  if (typeof text !== 'string') fail('must be a decimal string such as "17.4764"');
  const value = (text as string).trim();
  const match = DECIMAL.exec(value);
  if (!match) fail(`"${truncate(value)}" is not a non-negative decimal number`);
  const whole = match![1]!;
  let fraction = match![2] ?? '';
  let roundUp = false;
  if (fraction.length > scale) {
    if ((options.rounding ?? 'reject') === 'reject') {
      fail(`has ${fraction.length} decimals; this collection allows at most ${scale}`);
    }
    roundUp = roundsUpHalfEven(whole + fraction.slice(0, scale), fraction.slice(scale));
    fraction = fraction.slice(0, scale);
  }
  const digits = (whole + fraction.padEnd(scale, '0')).replace(/^0+(?=\d)/, '');
  if (digits.length > MAX_DIGITS) fail('is too large');
  const units = BigInt(digits) + (roundUp ? 1n : 0n);
  if (units === 0n && !options.allowZero) fail('must be greater than zero');
  return units;
}

function roundsUpHalfEven(kept: string, dropped: string): boolean {
  const first = dropped[0]!;
  if (first > '5') return true;
  if (first < '5') return false;
  if (/[1-9]/.test(dropped.slice(1))) return true;
  const lastKept = Number(kept[kept.length - 1] ?? '0');
  return lastKept % 2 === 1;
}

/** Formats smallest units as a decimal string with exactly `scale` decimals. */
export function formatQuantity(units: bigint | string | number, scale: number): string {
  const value = BigInt(units);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? '.' + fraction : ''}`;
}

/** Parses a signed decimal (for adjustments, which may be negative). */
export function parseSignedQuantity(text: unknown, scale: number, options: ParseOptions = {}): bigint {
  if (typeof text === 'string' && text.trim().startsWith('-')) {
    return -parseQuantity(text.trim().slice(1), scale, options);
  }
  return parseQuantity(text, scale, options);
}

export function sumUnits(values: Iterable<bigint>): bigint {
  let total = 0n;
  for (const value of values) total += value;
  return total;
}

function truncate(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
