/** Who may and who may not, for every identity endpoint. */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roles } from '../../core/roles.js';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { PASSWORD, problem, signIn, unique, type SignedIn } from '../../../test/factories.js';

describe(`identity access rules on ${engine}`, () => {
  let server: TestServer;
  let admin: SignedIn;
  const others: Record<string, SignedIn> = {};
  beforeAll(async () => {
    server = await createTestServer();
    admin = await signIn(server.app, server.context, ['admin']);
    for (const role of roles.filter((r) => r !== 'admin')) others[role] = await signIn(server.app, server.context, [role]);
  });
  afterAll(async () => server?.close());
  const inject = (options: InjectOptions) => server.app.inject(options);

  it('lets only admins list users, create users and institutions, and read another user', async () => {
    expect((await inject({ method: 'GET', url: '/api/v1/users', headers: admin.headers })).statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: `/api/v1/users/${others.curator!.user.id}`, headers: admin.headers })).json()).toMatchObject({ id: others.curator!.user.id });
    const email = `${unique('made')}@test.samplebank`;
    expect((await inject({ method: 'POST', url: '/api/v1/users', headers: admin.headers, payload: { email, name: 'Made', password: PASSWORD, roles: ['applicant'] } })).statusCode).toBe(201);
    for (const [role, who] of Object.entries(others)) {
      problem(await inject({ method: 'GET', url: '/api/v1/users', headers: who.headers }), 403, 'forbidden');
      problem(await inject({ method: 'POST', url: '/api/v1/users', headers: who.headers, payload: { email: `${unique(role)}@test.samplebank`, name: 'X', password: PASSWORD, roles: ['admin'] } }), 403, 'forbidden');
      problem(await inject({ method: 'POST', url: '/api/v1/institutions', headers: who.headers, payload: { code: unique('I'), name: 'X' } }), 403, 'forbidden');
      problem(await inject({ method: 'GET', url: `/api/v1/users/${admin.user.id}`, headers: who.headers }), 403, 'forbidden');
      // Everyone may read themselves and the list of institutions.
      expect((await inject({ method: 'GET', url: `/api/v1/users/${who.user.id}`, headers: who.headers })).json()).toMatchObject({ id: who.user.id, roles: [role] });
      expect((await inject({ method: 'GET', url: '/api/v1/institutions', headers: who.headers })).statusCode).toBe(200);
      expect((await inject({ method: 'GET', url: '/api/v1/me', headers: who.headers })).json()).toMatchObject({ id: who.user.id });
    }
    // Nobody was created by the refused calls.
    const list = (await inject({ method: 'GET', url: '/api/v1/users?limit=500', headers: admin.headers })).json() as { items: Array<{ roles: string[] }> };
    expect(list.items.filter((u) => u.roles.includes('admin'))).toHaveLength(1);
  });

  it('lets a user manage only their own API tokens; an admin may revoke anyone\'s', async () => {
    const owner = others.applicant!;
    const created = (await inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: owner.headers, payload: { name: 'laptop' } })).json() as { id: string; token: string };
    const mine = (await inject({ method: 'GET', url: '/api/v1/auth/tokens', headers: owner.headers })).json() as { items: Array<{ id: string }> };
    expect(mine.items.map((t) => t.id)).toEqual([created.id]);
    const theirs = (await inject({ method: 'GET', url: '/api/v1/auth/tokens', headers: others.reviewer!.headers })).json() as { items: unknown[] };
    expect(theirs.items).toEqual([]);
    problem(await inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${created.id}`, headers: others.reviewer!.headers }), 404, 'not-found');
    expect((await inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${created.token}` } })).statusCode).toBe(200);
    expect((await inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${created.id}`, headers: admin.headers })).statusCode).toBe(204);
    problem(await inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${created.token}` } }), 401, 'unauthenticated');
  });

  it('changes a password only with the current one, after which only the new one signs in', async () => {
    const who = await signIn(server.app, server.context, ['chair']);
    const wrong = await inject({ method: 'POST', url: '/api/v1/me/password', headers: who.headers, payload: { currentPassword: 'not-it-at-all', newPassword: 'a-brand-new-password' } });
    expect(problem(wrong, 401, 'invalid-credentials').errors[0]?.field).toBe('currentPassword');
    const short = await inject({ method: 'POST', url: '/api/v1/me/password', headers: who.headers, payload: { currentPassword: PASSWORD, newPassword: 'short' } });
    expect(problem(short, 400, 'validation-failed').errors[0]?.field).toBe('newPassword');
    expect((await inject({ method: 'POST', url: '/api/v1/me/password', headers: who.headers, payload: { currentPassword: PASSWORD, newPassword: 'a-brand-new-password' } })).statusCode).toBe(204);
    problem(await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: who.user.email, password: PASSWORD } }), 401, 'invalid-credentials');
    expect((await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: who.user.email, password: 'a-brand-new-password' } })).statusCode).toBe(200);
  });

  it('signs out: the session used stops working, other sessions do not', async () => {
    const who = await signIn(server.app, server.context, ['auditor']);
    const second = (await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: who.user.email, password: PASSWORD } })).json() as { token: string };
    expect((await inject({ method: 'POST', url: '/api/v1/auth/logout', headers: who.headers })).statusCode).toBe(204);
    problem(await inject({ method: 'GET', url: '/api/v1/me', headers: who.headers }), 401, 'unauthenticated');
    expect((await inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${second.token}` } })).statusCode).toBe(200);
  });
});
