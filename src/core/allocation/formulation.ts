/**
 * The mixed-integer model handed to the solver, and the way back to exact
 * quantities. Two formulations:
 *
 * - `pieces`: one semi-integer variable per (item, sample of its kind), each 0
 *   or between the smallest cut and what the sample holds, a binary per pair
 *   counting pieces when an item has more candidate samples than it may be
 *   cut from, and the item's total semi-integer in {0} ∪ [minimum, request].
 *   Exact, but it grows with items × samples.
 * - `aggregate`: only the item totals, with the bounds cutting implies (a
 *   positive total is at least the smallest cut and at most what its
 *   `maxPieces` largest samples hold). It is a relaxation of `pieces`, so its
 *   bound is an honest bound on the real optimum; the totals are then cut from
 *   samples by `realise` (cutting.ts), which may have to trim a few.
 *
 * "0 or between lower and upper" is a semi-integer column where HiGHS allows
 * one: it refuses semi-variables with an upper bound above 1e5 (its
 * kMaxSemiVariableUpper; the run fails with status -1), and real quantities
 * (grams to 0.1 mg: 17.4764 g is 174,764 units) are far above it. Larger
 * ones are an integer quantity switched by a binary, lower·y ≤ x ≤ upper·y.
 * That is a big-M link: with the integrality tolerance at 1e-9, a switch
 * "almost 0" can carry up to upper·1e-9 units, less than one unit while
 * upper < 1e9 (100 kg at 0.1 mg). Beyond that an answer may break a minimum;
 * every answer is decoded exactly and verified, and such a one falls back.
 */
import { cutPieces, largestCuttable, type Stock } from './cutting.js';
import { fillByRank } from './greedy.js';
import { excludedSamples, itemKey, kindLimits, maxPieces, mayDraw, minBig, objectiveCoefficients, sampleCapacity, type AllocationInput, type AllocationRules, type ItemProposal, type Proposal } from './model.js';

export type Formulation = 'pieces' | 'aggregate';

export const VARIABLE = { continuous: 0, integer: 1, semiInteger: 3 } as const;

/** HiGHS's largest upper bound for a semi-variable. */
export const MAX_SEMI_UPPER = 1e5;

/** Plain arrays, so it crosses to the worker thread by structured clone. */
export interface LinearModel {
  numCols: number;
  numRows: number;
  colCost: number[];
  colLower: number[];
  colUpper: number[];
  rowLower: number[];
  rowUpper: number[];
  /** Compressed rows. */
  matrix: { starts: number[]; indices: number[]; values: number[] };
  integrality: number[];
  /** A feasible start (the greedy proposal), so a cut-short solve is never worse. */
  start?: number[];
}

export interface BuiltModel {
  formulation: Formulation;
  model: LinearModel;
  /** Column of each request's total, or -1 when the item cannot get anything. */
  totalColumn: number[];
  /** Columns of the pieces: [request index, sample id, column]. */
  pieceColumns: Array<{ request: number; sampleId: string; column: number }>;
}

class Builder {
  readonly cost: number[] = [];
  readonly lower: number[] = [];
  readonly upper: number[] = [];
  readonly integrality: number[] = [];
  readonly rowLower: number[] = [];
  readonly rowUpper: number[] = [];
  readonly starts: number[] = [0];
  readonly indices: number[] = [];
  readonly values: number[] = [];

  column(cost: number, lower: number, upper: number, type: number): number {
    this.cost.push(cost);
    this.lower.push(lower);
    this.upper.push(upper);
    this.integrality.push(type);
    return this.cost.length - 1;
  }

  /**
   * A quantity that is 0 or in [lower, upper]: one semi-integer column when
   * HiGHS accepts it, else an integer column and its binary switch.
   */
  onOff(cost: number, lower: number, upper: number): { column: number; binary?: number } {
    if (upper <= MAX_SEMI_UPPER) return { column: this.column(cost, lower, upper, VARIABLE.semiInteger) };
    const column = this.column(cost, 0, upper, VARIABLE.integer);
    const binary = this.column(0, 0, 1, VARIABLE.integer);
    this.row([[column, 1], [binary, -lower]], 0, Infinity);
    this.row([[column, 1], [binary, -upper]], -Infinity, 0);
    return { column, binary };
  }

  row(terms: ReadonlyArray<readonly [number, number]>, lower: number, upper: number): void {
    if (terms.length === 0) return;
    for (const [column, value] of terms) {
      this.indices.push(column);
      this.values.push(value);
    }
    this.starts.push(this.indices.length);
    this.rowLower.push(lower);
    this.rowUpper.push(upper);
  }

  build(): LinearModel {
    return {
      numCols: this.cost.length,
      numRows: this.rowLower.length,
      colCost: this.cost,
      colLower: this.lower,
      colUpper: this.upper,
      rowLower: this.rowLower,
      rowUpper: this.rowUpper,
      matrix: { starts: this.starts, indices: this.indices, values: this.values },
      integrality: this.integrality,
    };
  }
}

/** Bounds of each item's total that every rule implies on its own; null when it cannot get anything. */
export function itemBounds(input: AllocationInput, rules: AllocationRules): Array<{ lower: bigint; upper: bigint } | null> {
  const limits = kindLimits(input);
  const cap = rules.institutionCap ?? {};
  const stockByKind = new Map<string, Stock[]>();
  for (const s of input.samples) stockByKind.set(s.kind, [...(stockByKind.get(s.kind) ?? []), { sampleId: s.id, left: sampleCapacity(s) }]);
  return input.requests.map((r) => {
    const caps = [r.quantity, limits.get(r.kind) ?? 0n, ...(cap.perKind === undefined ? [] : [cap.perKind]), ...(cap.total === undefined ? [] : [cap.total])];
    const excluded = excludedSamples(r);
    const stock = (stockByKind.get(r.kind) ?? []).filter((s) => !excluded.has(s.sampleId));
    const upper = largestCuttable(minBig(...caps), stock, rules.minCut, maxPieces(rules));
    const lower = r.minimum > rules.minCut ? r.minimum : rules.minCut;
    return upper >= lower ? { lower, upper } : null;
  });
}

export function buildModel(input: AllocationInput, rules: AllocationRules, formulation: Formulation, start?: Proposal): BuiltModel {
  const b = new Builder();
  const coefficients = objectiveCoefficients(input);
  const bounds = itemBounds(input, rules);
  const pieceColumns: BuiltModel['pieceColumns'] = [];
  // Quantity column → the binary saying whether it is used (when it has one).
  const binaries = new Map<number, number>();
  const totalColumn = bounds.map((bound, i) => {
    if (!bound) return -1;
    const { column, binary } = b.onOff(coefficients[i]!, Number(bound.lower), Number(bound.upper));
    if (binary !== undefined) binaries.set(column, binary);
    return column;
  });

  if (formulation === 'pieces') {
    const pieces = maxPieces(rules);
    input.requests.forEach((r, i) => {
      const bound = bounds[i];
      if (!bound) return;
      const candidates = input.samples.filter((s) => mayDraw(r, s) && sampleCapacity(s) >= rules.minCut);
      const mine: Array<readonly [number, number]> = [];
      for (const s of candidates) {
        const upper = minBig(bound.upper, sampleCapacity(s));
        const { column, binary } = b.onOff(0, Number(rules.minCut), Number(upper));
        if (binary !== undefined) binaries.set(column, binary);
        pieceColumns.push({ request: i, sampleId: s.id, column });
        mine.push([column, 1]);
      }
      b.row([...mine, [totalColumn[i]!, -1]], 0, 0);
      if (candidates.length > pieces) {
        const used = mine.map(([column]) => {
          let binary = binaries.get(column);
          if (binary === undefined) {
            binary = b.column(0, 0, 1, VARIABLE.integer);
            binaries.set(column, binary);
            b.row([[column, 1], [binary, -b.upper[column]!]], -Infinity, 0);
          }
          return [binary, 1] as const;
        });
        b.row(used, -Infinity, pieces);
      }
    });
    for (const s of input.samples) {
      const terms = pieceColumns.filter((p) => p.sampleId === s.id).map((p) => [p.column, 1] as const);
      b.row(terms, -Infinity, Number(sampleCapacity(s)));
    }
  }

  const limits = kindLimits(input);
  for (const [kind, limit] of limits) {
    b.row(columnsWhere(input, totalColumn, (r) => r.kind === kind), -Infinity, Number(limit));
  }
  const cap = rules.institutionCap ?? {};
  const institutions = new Set(input.requests.map((r) => r.institutionId));
  for (const institution of institutions) {
    if (cap.total !== undefined) b.row(columnsWhere(input, totalColumn, (r) => r.institutionId === institution), -Infinity, Number(cap.total));
    if (cap.perKind === undefined) continue;
    for (const kind of limits.keys()) {
      b.row(columnsWhere(input, totalColumn, (r) => r.institutionId === institution && r.kind === kind), -Infinity, Number(cap.perKind));
    }
  }

  const model = b.build();
  if (start) model.start = startValues(input, model, totalColumn, pieceColumns, binaries, start);
  return { formulation, model, totalColumn, pieceColumns };
}

function columnsWhere(input: AllocationInput, totalColumn: number[], keep: (r: AllocationInput['requests'][number]) => boolean): Array<readonly [number, number]> {
  return input.requests.flatMap((r, i) => (keep(r) && totalColumn[i]! >= 0 ? [[totalColumn[i]!, 1] as const] : []));
}

function startValues(input: AllocationInput, model: LinearModel, totalColumn: number[], pieceColumns: BuiltModel['pieceColumns'], binaries: Map<number, number>, start: Proposal): number[] {
  const values = new Array<number>(model.numCols).fill(0);
  const byKey = new Map(start.items.map((p) => [itemKey(p), p]));
  input.requests.forEach((r, i) => {
    const column = totalColumn[i]!;
    if (column < 0) return;
    values[column] = Number(byKey.get(itemKey(r))?.allocated ?? 0n);
    const binary = binaries.get(column);
    if (binary !== undefined) values[binary] = values[column]! > 0 ? 1 : 0;
  });
  for (const piece of pieceColumns) {
    const quantity = byKey.get(itemKey(input.requests[piece.request]!))?.pieces.find((p) => p.sampleId === piece.sampleId)?.quantity ?? 0n;
    values[piece.column] = Number(quantity);
    const binary = binaries.get(piece.column);
    if (binary !== undefined) values[binary] = quantity > 0n ? 1 : 0;
  }
  return values;
}

export class DecodeError extends Error {}

/** A solver value back to exact units; refuses anything that is not (nearly) a whole number. */
export function toUnits(value: number): bigint {
  if (!Number.isFinite(value)) throw new DecodeError(`the solver returned ${value}`);
  const rounded = Math.round(value);
  if (Math.abs(value - rounded) > 1e-6 * Math.max(1, Math.abs(value)) || Math.abs(value - rounded) > 0.01) {
    throw new DecodeError(`the solver returned ${value}, not a whole number of units`);
  }
  if (!Number.isSafeInteger(rounded) || rounded < 0) throw new DecodeError(`the solver returned ${value}, out of range`);
  return BigInt(rounded);
}

export interface Decoded {
  proposal: Proposal;
  /** Items whose solver total had to be trimmed (or dropped) to be cut from samples. */
  trimmed: number;
}

export function decodeSolution(input: AllocationInput, rules: AllocationRules, built: BuiltModel, values: ArrayLike<number>): Decoded {
  const totals = built.totalColumn.map((column) => (column >= 0 ? toUnits(values[column]!) : 0n));
  if (built.formulation === 'aggregate') {
    const realised = realise(input, rules, totals);
    // What trimming freed goes, by rank, to items the answer left empty.
    return realised.trimmed > 0 ? { ...realised, proposal: fillByRank(input, rules, realised.proposal) } : realised;
  }
  const pieces = new Map<number, ItemProposal['pieces']>();
  for (const p of built.pieceColumns) {
    const quantity = toUnits(values[p.column]!);
    if (quantity > 0n) pieces.set(p.request, [...(pieces.get(p.request) ?? []), { sampleId: p.sampleId, quantity }]);
  }
  const items = input.requests.map((r, i) => {
    const own = pieces.get(i) ?? [];
    return { applicationId: r.applicationId, itemId: r.itemId, allocated: own.reduce((s, p) => s + p.quantity, 0n), pieces: own };
  });
  return { proposal: { items }, trimmed: 0 };
}

/**
 * Cuts the aggregate totals from samples, largest totals first (as in bin
 * packing). A total that cannot be cut as is gets the largest quantity that
 * can, if that still meets its minimum, else nothing.
 */
export function realise(input: AllocationInput, rules: AllocationRules, totals: readonly bigint[]): Decoded {
  const stock = new Map(input.samples.map((s) => [s.id, { kind: s.kind, left: sampleCapacity(s) }]));
  const stockOf = (request: AllocationInput['requests'][number]): Stock[] => {
    const excluded = excludedSamples(request);
    return [...stock].filter(([sampleId, s]) => s.kind === request.kind && !excluded.has(sampleId)).map(([sampleId, s]) => ({ sampleId, left: s.left }));
  };
  const order = totals.map((_, i) => i).sort((a, b) => (totals[a]! === totals[b]! ? a - b : totals[a]! > totals[b]! ? -1 : 1));
  const items: ItemProposal[] = input.requests.map((r) => ({ applicationId: r.applicationId, itemId: r.itemId, allocated: 0n, pieces: [] }));
  let trimmed = 0;
  for (const i of order) {
    const total = totals[i]!;
    if (total === 0n) continue;
    const request = input.requests[i]!;
    let pieces = cutPieces(total, stockOf(request), rules.minCut, maxPieces(rules));
    if (!pieces) {
      trimmed += 1;
      const possible = largestCuttable(total, stockOf(request), rules.minCut, maxPieces(rules));
      pieces = possible >= request.minimum ? cutPieces(possible, stockOf(request), rules.minCut, maxPieces(rules)) : null;
    }
    if (!pieces) continue;
    for (const piece of pieces) stock.get(piece.sampleId)!.left -= piece.quantity;
    items[i] = { ...items[i]!, allocated: pieces.reduce((s, p) => s + p.quantity, 0n), pieces };
  }
  return { proposal: { items }, trimmed };
}
