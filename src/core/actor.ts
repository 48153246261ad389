import type { Role } from './roles.js';

/** Who is acting: the signed-in user, or the system itself (demo, migrations, CLI as admin). */
export interface Actor {
  userId: string | null;
  institutionId: string | null;
  roles: readonly Role[];
  requestId?: string;
}

export const systemActor: Actor = { userId: null, institutionId: null, roles: ['admin'] };

export function hasRole(actor: Actor, ...roles: Role[]): boolean {
  return roles.some((role) => actor.roles.includes(role));
}
