/**
 * The call and application state machines as the pages need them: the next
 * step a chair can take, the steps an applicant sees, and badge colours.
 * The server (src/core/workflow.ts) decides; this only chooses what to offer.
 */
export const callNext: Record<string, string | undefined> = {
  draft: 'open',
  open: 'closed',
  closed: 'in_review',
  in_review: 'decided',
  decided: 'distributed',
  distributed: 'archived',
};

/** The path an application walks; withdrawn and rejected leave it. */
export const applicationSteps = ['draft', 'submitted', 'in_review', 'decided', 'allocated', 'shipped', 'received', 'reporting', 'closed'] as const;

const decided = ['approved', 'partially_approved', 'rejected'];
export const isDecided = (state: string): boolean => decided.includes(state);

/** The index of the step an application in `state` has reached. */
export function stepOf(state: string): number {
  if (isDecided(state)) return applicationSteps.indexOf('decided');
  return applicationSteps.indexOf(state as (typeof applicationSteps)[number]);
}

export const withdrawable = ['draft', 'submitted', 'in_review', 'approved', 'partially_approved', 'rejected'];

const tones: Record<string, string> = {
  draft: 'gray',
  open: 'green',
  closed: 'amber',
  in_review: 'blue',
  decided: 'violet',
  distributed: 'green',
  archived: 'gray',
  submitted: 'blue',
  approved: 'green',
  partially_approved: 'green',
  rejected: 'red',
  allocated: 'violet',
  shipped: 'blue',
  received: 'green',
  reporting: 'amber',
  withdrawn: 'gray',
  assigned: 'amber',
  recused: 'gray',
};
export const toneOf = (state: string): string => tones[state] ?? 'gray';
