/**
 * The fallback: by rank, each item gets as much as every rule allows up to its
 * request, or nothing when that is below its minimum useful quantity.
 */
import { cutPieces, largestCuttable } from './cutting.js';
import { Ledger } from './ledger.js';
import { itemKey, maxPieces, rankOrder, type AllocationInput, type AllocationRules, type ItemProposal, type Proposal } from './model.js';

export function greedyAllocation(input: AllocationInput, rules: AllocationRules): Proposal {
  return fillByRank(input, rules);
}

/**
 * The same, on top of what `start` already gives: its items keep their pieces,
 * and items it leaves empty get what is left by rank. Repairs a solver answer
 * whose totals had to be trimmed to be cut from samples.
 */
export function fillByRank(input: AllocationInput, rules: AllocationRules, start?: Proposal): Proposal {
  const ledger = new Ledger(input, rules);
  const proposals = new Map<number, ItemProposal>();
  const given = new Map((start?.items ?? []).filter((i) => i.allocated > 0n).map((i) => [itemKey(i), i]));
  input.requests.forEach((request, index) => {
    const item = given.get(itemKey(request));
    if (!item) return;
    ledger.take(request, item.pieces);
    proposals.set(index, item);
  });
  for (const index of rankOrder(input.requests)) {
    if (proposals.has(index)) continue;
    const request = input.requests[index]!;
    const limit = ledger.headroom(request);
    const stock = ledger.stockFor(request);
    const quantity = largestCuttable(limit, stock, rules.minCut, maxPieces(rules));
    const pieces = quantity >= request.minimum ? cutPieces(quantity, stock, rules.minCut, maxPieces(rules)) : null;
    if (pieces) ledger.take(request, pieces);
    proposals.set(index, { applicationId: request.applicationId, itemId: request.itemId, allocated: pieces ? quantity : 0n, pieces: pieces ?? [] });
  }
  return { items: input.requests.map((_, i) => proposals.get(i)!) };
}
