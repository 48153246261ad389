/**
 * Exact decimal quantities in the browser. The API sends quantities as
 * decimal strings with the collection's scale ("17.4764"); they are never
 * parsed to a JS number. Arithmetic is on BigInt counts of the smallest unit,
 * with the same rules as the ledger: no more decimals than the scale, no
 * silent rounding.
 */
export type ParseResult = { ok: true; value: bigint } | { ok: false; reason: 'empty' | 'format' | 'scale' | 'negative' };

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/** Parses "17.4764" at scale 4 into 174764n; refuses what the ledger refuses. */
export function parseQuantity(text: string, scale: number, options: { signed?: boolean } = {}): ParseResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: 'empty' };
  const match = DECIMAL.exec(trimmed);
  if (!match) return { ok: false, reason: 'format' };
  const [, sign = '', whole = '0', fraction = ''] = match;
  if (fraction.length > scale) return { ok: false, reason: 'scale' };
  const units = BigInt(whole) * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, '0') || '0');
  const value = sign === '-' ? -units : units;
  if (value < 0n && !options.signed) return { ok: false, reason: 'negative' };
  return { ok: true, value };
}

/** 174764n at scale 4 -> "17.4764"; always exactly `scale` decimals, like the API. */
export function formatQuantity(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}

/** The scale a wire quantity was written with ("17.4764" -> 4). */
export function scaleOf(wire: string): number {
  const dot = wire.indexOf('.');
  return dot < 0 ? 0 : wire.length - dot - 1;
}

/** Parses a quantity the API sent (trusted to be well formed at its scale). */
export function fromWire(wire: string, scale = scaleOf(wire)): bigint {
  const parsed = parseQuantity(wire, scale, { signed: true });
  if (!parsed.ok) throw new Error(`not a quantity: ${wire}`);
  return parsed.value;
}

export function sum(values: bigint[]): bigint {
  return values.reduce((total, value) => total + value, 0n);
}
