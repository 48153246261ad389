/**
 * The state machines of calls and applications, as data. Services ask
 * `assertTransition` before a conditional UPDATE ... WHERE state = from, so the
 * rule lives here and the database refuses a race.
 */
import { DomainError } from './errors.js';

export const callStates = ['draft', 'open', 'closed', 'in_review', 'decided', 'distributed', 'archived'] as const;
export type CallState = (typeof callStates)[number];

export const callTransitions: Record<CallState, readonly CallState[]> = {
  draft: ['open'],
  open: ['closed'],
  closed: ['in_review'],
  in_review: ['decided'],
  decided: ['distributed'],
  distributed: ['archived'],
  archived: [],
};

export const applicationStates = [
  'draft',
  'submitted',
  'in_review',
  'approved',
  'partially_approved',
  'rejected',
  'allocated',
  'shipped',
  'received',
  'reporting',
  'closed',
  'withdrawn',
] as const;
export type ApplicationState = (typeof applicationStates)[number];

export const decisionOutcomes = ['approved', 'partially_approved', 'rejected'] as const;
export type DecisionOutcome = (typeof decisionOutcomes)[number];

/** Before allocation an application may be withdrawn from any state. */
export const withdrawableStates: readonly ApplicationState[] = ['draft', 'submitted', 'in_review', 'approved', 'partially_approved', 'rejected'];

export const applicationTransitions: Record<ApplicationState, readonly ApplicationState[]> = {
  draft: ['submitted', 'withdrawn'],
  submitted: ['in_review', 'withdrawn'],
  // A decision may be revised while the call is still in review.
  in_review: [...decisionOutcomes, 'withdrawn'],
  approved: ['partially_approved', 'rejected', 'allocated', 'withdrawn'],
  partially_approved: ['approved', 'rejected', 'allocated', 'withdrawn'],
  rejected: ['approved', 'partially_approved', 'withdrawn'],
  allocated: ['shipped'],
  shipped: ['received'],
  received: ['reporting'],
  reporting: ['closed'],
  closed: [],
  withdrawn: [],
};

export function canTransition<S extends string>(table: Record<S, readonly S[]>, from: S, to: S): boolean {
  return table[from]?.includes(to) ?? false;
}

export function assertTransition<S extends string>(what: string, table: Record<S, readonly S[]>, from: S, to: S): void {
  if (canTransition(table, from, to)) return;
  const allowed = table[from] ?? [];
  throw new DomainError('invalid-state', `A ${what} cannot go from ${from} to ${to}${allowed.length ? ` (from ${from} it can go to ${allowed.join(', ')})` : ` (${from} is final)`}`, {
    errors: [{ field: 'state', message: `is ${from}` }],
    extensions: { state: from, allowed },
  });
}

export function isDecided(state: ApplicationState): boolean {
  return (decisionOutcomes as readonly string[]).includes(state);
}
