/**
 * Who may do what, declared in one table. Services call authorize() before
 * they read or write; row-level rules (own applications, conflicts of
 * interest, blind review) live in the repositories' queries that the services use.
 */
import type { Actor } from './actor.js';
import { DomainError } from './errors.js';
import type { Role } from './roles.js';

const everyone: Role[] = ['admin', 'curator', 'reviewer', 'chair', 'applicant', 'auditor'];

export const policy = {
  'institution.create': ['admin'],
  'institution.list': everyone,
  'user.create': ['admin'],
  'user.read': ['admin'],
  'user.list': ['admin'],
  'user.update': ['admin'],
  'token.manage': everyone,
  'collection.create': ['admin', 'curator'],
  'collection.read': everyone,
  'location.manage': ['admin', 'curator'],
  'location.read': ['admin', 'curator', 'auditor'],
  'sample.create': ['curator'],
  'sample.read': ['admin', 'curator', 'chair', 'auditor'],
  'sample.split': ['curator'],
  'sample.reserve': ['curator', 'chair'],
  'sample.release': ['curator', 'chair'],
  'sample.consume': ['curator'],
  'sample.adjust': ['curator'],
  'sample.destroy': ['curator'],
  'sample.move': ['curator'],
  'sample.state': ['curator'],
  'sample.import': ['curator', 'admin'],
  'sample.export': ['curator', 'admin', 'auditor'],
  'audit.read': ['admin', 'auditor'],
  'audit.verify': ['admin', 'auditor'],
  'job.read': everyone,
  'call.create': ['chair'],
  'call.manage': ['chair'],
  'call.pool': ['chair', 'curator'],
  'call.read': everyone,
  'call.statistics': everyone,
  'application.create': ['applicant'],
  'application.read': everyone,
  'application.decide': ['chair'],
  'review.assign': ['chair'],
  'review.read-all': ['chair', 'auditor', 'admin'],
  'review.rank': ['chair', 'auditor', 'admin'],
  'review.write': ['reviewer'],
  'conflict.declare': ['reviewer'],
  'notification.read': everyone,
  // Allocation: the committee chair proposes, edits and approves; executing it
  // (splitting and reserving material) is for the chair or a curator.
  'allocation.propose': ['chair'],
  'allocation.read': ['chair', 'curator', 'auditor', 'admin'],
  'allocation.edit': ['chair'],
  'allocation.approve': ['chair'],
  'allocation.execute': ['chair', 'curator'],
  'donor.manage': ['curator'],
  'donor.read': ['admin', 'curator', 'auditor'],
  'eligibility.check': ['admin', 'curator', 'chair', 'auditor'],
  'network.manage': ['admin'],
  'network.catalog': everyone,
  'pathology.export': ['admin', 'curator', 'auditor'],
  // Distribution and loans: curators ship and resolve; the recipient confirms, reports and returns (row-level: own applications only).
  'shipment.create': ['curator'],
  'shipment.manage': ['curator'],
  'shipment.read': ['admin', 'curator', 'chair', 'auditor', 'applicant'],
  'shipment.receive': ['applicant'],
  'incident.read': ['admin', 'curator', 'chair', 'auditor', 'applicant'],
  'incident.resolve': ['curator'],
  'loan.read': ['admin', 'curator', 'chair', 'auditor', 'applicant'],
  'loan.manage': ['curator'],
  'loan.fulfil': ['applicant'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof policy;

export function can(actor: Actor | null, action: Action): boolean {
  if (!actor) return false;
  const allowed: readonly Role[] = policy[action];
  return actor.roles.some((role) => allowed.includes(role));
}

/** Throws unauthenticated (no actor) or forbidden (wrong role). */
export function authorize(actor: Actor | null, action: Action): asserts actor is Actor {
  if (!actor) throw new DomainError('unauthenticated', 'Sign in first (send a bearer token or the session cookie)');
  if (!can(actor, action)) throw new DomainError('forbidden', `Your roles (${actor.roles.join(', ') || 'none'}) do not allow ${action}`);
}
