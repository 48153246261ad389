/**
 * One row of an import file checked on its own (no database): which columns
 * hold which fields, and what each cell must look like.
 */
import { DomainError } from '../../../core/errors.js';
import { parseQuantity, type RoundingMode } from '../../../core/quantity.js';

export const importFields = ['identifier', 'kind', 'quantity', 'parent', 'location'] as const;
export type ImportField = (typeof importFields)[number];
export type Mapping = Partial<Record<ImportField, string>>;

export interface RowError {
  row: number;
  column: string;
  message: string;
}

export interface ParsedRow {
  row: number;
  identifier: string;
  kind: string;
  quantity: bigint;
  parent: string | null;
  location: string | null;
  attributes: Record<string, string>;
}

export interface Layout {
  /** Column index of each mapped field. */
  index: Partial<Record<ImportField, number>>;
  mapping: Mapping;
  /** Columns that become attributes: [index, name]. */
  attributes: Array<[number, string]>;
  width: number;
}

export interface RowRules {
  scale: number;
  /** The collection's kinds, by lower case; empty means any kind. */
  kinds: Map<string, string>;
  rounding: RoundingMode;
  allowZero: boolean;
}

/** Matches the mapping to the header; a missing or repeated column stops the import before any row is read. */
export function layoutOf(header: string[], mapping: Mapping, ignore: string[] = []): Layout {
  const errors: Array<{ field: string; message: string }> = [];
  const seen = new Set<string>();
  for (const name of header) {
    if (name !== '' && seen.has(name)) errors.push({ field: `column ${name}`, message: 'appears twice in the header' });
    seen.add(name);
  }
  for (const field of ['identifier', 'kind', 'quantity'] as const) {
    if (!mapping[field]) errors.push({ field: `mapping.${field}`, message: 'is required (--map ' + field + '=COLUMN)' });
  }
  const index: Layout['index'] = {};
  for (const [field, column] of Object.entries(mapping) as Array<[ImportField, string]>) {
    const at = header.indexOf(column);
    if (at < 0) errors.push({ field: `mapping.${field}`, message: `column "${column}" is not in the file (columns: ${header.join(', ')})` });
    else index[field] = at;
  }
  for (const column of ignore) {
    if (!header.includes(column)) errors.push({ field: 'ignore', message: `column "${column}" is not in the file` });
  }
  if (errors.length > 0) {
    throw new DomainError('validation-failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
  }
  const mapped = new Set(Object.values(index));
  const attributes: Array<[number, string]> = [];
  header.forEach((name, at) => {
    if (!mapped.has(at) && !ignore.includes(name)) attributes.push([at, name === '' ? `column ${at + 1}` : name]);
  });
  return { index, mapping, attributes, width: header.length };
}

const IDENTIFIER_MAX = 64;
const KIND_MAX = 64;

/** Checks one row; returns the sample it describes or its errors (never both). */
export function parseRow(layout: Layout, rules: RowRules, row: number, cells: string[]): { sample?: ParsedRow; errors: RowError[] } {
  const errors: RowError[] = [];
  const cell = (field: ImportField): string => {
    const at = layout.index[field];
    return at === undefined ? '' : (cells[at] ?? '').trim();
  };
  const fail = (field: ImportField, message: string): void => {
    errors.push({ row, column: layout.mapping[field]!, message });
  };
  if (cells.length > layout.width && cells.slice(layout.width).some((c) => c.trim() !== '')) {
    errors.push({ row, column: `column ${layout.width + 1}`, message: `the row has ${cells.length} cells; the header has ${layout.width}` });
  }

  const identifier = cell('identifier');
  if (identifier === '') fail('identifier', 'is empty');
  else if (/\s/.test(identifier)) fail('identifier', `"${identifier}" contains white space`);
  else if (identifier.length > IDENTIFIER_MAX) fail('identifier', `is longer than ${IDENTIFIER_MAX} characters`);

  let kind = cell('kind');
  if (kind === '') fail('kind', 'is empty');
  else if (kind.length > KIND_MAX) fail('kind', `is longer than ${KIND_MAX} characters`);
  else if (rules.kinds.size > 0) {
    const known = rules.kinds.get(kind.toLowerCase());
    if (known === undefined) fail('kind', `"${kind}" is not a kind of this collection (${[...rules.kinds.values()].join(', ')})`);
    else kind = known;
  }

  let quantity = 0n;
  const quantityText = cell('quantity');
  if (quantityText === '') fail('quantity', 'is empty');
  else {
    try {
      quantity = parseQuantity(quantityText, rules.scale, { rounding: rules.rounding, allowZero: true });
      if (quantity === 0n && !rules.allowZero) fail('quantity', 'is zero (use --allow-zero to register samples with no material)');
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const message = error.errors[0]?.message ?? error.message;
      fail('quantity', /decimals/.test(message) ? `"${quantityText}" ${message} (use --round half-even to round)` : message);
    }
  }

  const parent = cell('parent') || null;
  if (parent !== null && parent === identifier) fail('parent', 'a sample cannot be its own parent');
  const location = cell('location') || null;

  if (errors.length > 0) return { errors };
  const attributes: Record<string, string> = {};
  for (const [at, name] of layout.attributes) {
    const value = cells[at];
    if (value !== undefined && value.trim() !== '') attributes[name] = value;
  }
  return { sample: { row, identifier, kind, quantity, parent, location, attributes }, errors };
}
