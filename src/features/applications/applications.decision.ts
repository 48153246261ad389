/** The quantities a decision approves, and the letter the applicant reads. */
import { invalid } from '../../core/errors.js';
import { parseQuantity } from '../../core/quantity.js';
import type { DecisionOutcome } from '../../core/workflow.js';
import type { CallRow } from '../calls/calls.repository.js';
import type { ApplicationRow } from './applications.repository.js';

export interface DecisionInput {
  outcome: DecisionOutcome;
  rationale: string;
  letter?: string | undefined;
  approvedItems?: Array<{ kind: string; quantity: string }> | undefined;
}

export function approvedQuantities(input: DecisionInput, items: Array<{ kind: string; quantity: string; minimum: string }>, scale: number): Map<string, bigint | null> {
  const result = new Map<string, bigint | null>();
  if (input.outcome === 'rejected') {
    if (input.approvedItems?.length) throw invalid('approvedItems', 'must be empty for a rejection');
    for (const item of items) result.set(item.kind, null);
    return result;
  }
  if (input.outcome === 'approved') {
    if (input.approvedItems?.length) throw invalid('approvedItems', 'give approvedItems only for a partial approval');
    for (const item of items) result.set(item.kind, BigInt(item.quantity));
    return result;
  }
  if (!input.approvedItems?.length) throw invalid('approvedItems', 'a partial approval says how much of each item is approved');
  const given = new Map(input.approvedItems.map((a, i) => [a.kind, { text: a.quantity, i }]));
  for (const [kind, { i }] of given) if (!items.some((item) => item.kind === kind)) throw invalid(`approvedItems.${i}.kind`, 'was not requested');
  for (const item of items) {
    const entry = given.get(item.kind);
    if (!entry) {
      result.set(item.kind, 0n);
      continue;
    }
    const quantity = parseQuantity(entry.text, scale, { field: `approvedItems.${entry.i}.quantity`, allowZero: true });
    if (quantity > BigInt(item.quantity)) throw invalid(`approvedItems.${entry.i}.quantity`, 'exceeds the quantity requested');
    if (quantity > 0n && quantity < BigInt(item.minimum)) throw invalid(`approvedItems.${entry.i}.quantity`, 'is below the minimum useful quantity of the request');
    result.set(item.kind, quantity);
  }
  if ([...result.values()].every((q) => q === 0n)) throw invalid('approvedItems', 'approves nothing; reject instead');
  return result;
}

export function defaultLetter(row: ApplicationRow, call: CallRow, outcome: DecisionOutcome): string {
  const verdict = outcome === 'approved' ? 'has been approved' : outcome === 'partially_approved' ? 'has been partially approved' : 'was not approved';
  return `Your application "${row.title}" to "${call.title}" ${verdict} by the expert committee.`;
}
