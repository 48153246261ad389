/**
 * Cutting an item's quantity from concrete samples: at most `maxPieces`
 * pieces, each at least `minCut`, each from a different sample.
 */
import type { Piece } from './model.js';

export interface Stock {
  sampleId: string;
  left: bigint;
}

/** The largest quantity ≤ limit that can be cut from the stock, or 0n. */
export function largestCuttable(limit: bigint, stock: readonly Stock[], minCut: bigint, maxPieces: number): bigint {
  const largest = usable(stock, minCut).slice(0, maxPieces);
  let best = 0n;
  let sum = 0n;
  largest.forEach((s, index) => {
    sum += s.left;
    const candidate = limit < sum ? limit : sum;
    if (candidate >= BigInt(index + 1) * minCut && candidate > best) best = candidate;
  });
  return best;
}

/**
 * Pieces for exactly `quantity`, or null. One piece from the sample that fits
 * it most tightly (keeping large samples whole) when one can; otherwise the
 * largest samples, each piece as large as possible while the rest can still
 * be at least `minCut`.
 */
export function cutPieces(quantity: bigint, stock: readonly Stock[], minCut: bigint, maxPieces: number): Piece[] | null {
  if (quantity < minCut) return null;
  const candidates = usable(stock, minCut);
  const tightest = candidates.filter((s) => s.left >= quantity).at(-1);
  if (tightest) return [{ sampleId: tightest.sampleId, quantity }];
  for (let count = 2; count <= Math.min(maxPieces, candidates.length); count++) {
    const chosen = candidates.slice(0, count);
    const total = chosen.reduce((sum, s) => sum + s.left, 0n);
    if (quantity > total || quantity < BigInt(count) * minCut) continue;
    const pieces: Piece[] = [];
    let left = quantity;
    chosen.forEach((s, index) => {
      const reserveForRest = BigInt(count - index - 1) * minCut;
      const take = s.left < left - reserveForRest ? s.left : left - reserveForRest;
      pieces.push({ sampleId: s.sampleId, quantity: take });
      left -= take;
    });
    if (left === 0n) return pieces;
  }
  return null;
}

/** Samples a piece can come from, largest first (ties by id for stable runs). */
function usable(stock: readonly Stock[], minCut: bigint): Stock[] {
  return stock
    .filter((s) => s.left >= minCut)
    .sort((a, b) => (a.left === b.left ? (a.sampleId < b.sampleId ? -1 : 1) : a.left > b.left ? -1 : 1));
}
