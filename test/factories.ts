/**
 * Test data with unique values, so tests never clean up and never collide.
 * Users are created through the real service and signed in through the real
 * login endpoint.
 */
import crypto from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { systemActor } from '../src/core/actor.js';
import type { Role } from '../src/core/roles.js';
import type { Context } from '../src/compose.js';

export const unique = (prefix = 'x'): string => `${prefix}${crypto.randomBytes(5).toString('hex')}`;
export const PASSWORD = 'correct-horse-battery';

export async function createInstitution(context: Context, name?: string) {
  const code = unique('I').toUpperCase();
  return context.services.identity.createInstitution(systemActor, { code, name: name ?? `Institute ${code}` });
}

export interface SignedIn {
  user: { id: string; email: string; institutionId: string | null; roles: Role[] };
  token: string;
  headers: { authorization: string };
}

/** A user with the given roles (in a new institution unless one is given), signed in. */
export async function signIn(app: FastifyInstance, context: Context, roles: Role[], institutionId?: string): Promise<SignedIn> {
  const institution = institutionId ?? (await createInstitution(context)).id;
  const email = `${unique('user')}@test.samplebank`;
  await context.services.identity.createUser(systemActor, { email, name: `User ${email}`, password: PASSWORD, institutionId: institution, roles });
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: PASSWORD } });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`);
  const body = response.json() as { user: SignedIn['user']; token: string };
  return { user: body.user, token: body.token, headers: { authorization: `Bearer ${body.token}` } };
}

/** Asserts a problem+json answer and returns it. */
export function problem(response: LightMyRequestResponse, status: number, type?: string): { type: string; errors: Array<{ field: string; message: string }>; detail: string } {
  if (response.statusCode !== status) throw new Error(`expected ${status}, got ${response.statusCode}: ${response.body}`);
  if (!String(response.headers['content-type']).startsWith('application/problem+json')) throw new Error(`not problem+json: ${response.headers['content-type']}`);
  const body = response.json() as { type: string; errors: Array<{ field: string; message: string }>; detail: string };
  if (type && body.type !== type) throw new Error(`expected type ${type}, got ${body.type}: ${response.body}`);
  return body;
}
