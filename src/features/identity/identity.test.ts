import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { PASSWORD, problem, signIn, unique, type SignedIn } from '../../../test/factories.js';
import { hashSecret } from './password.js';
import { createIdentityService } from './identity.service.js';

describe(`identity on ${engine}`, () => {
  let server: TestServer;
  let admin: SignedIn;
  beforeAll(async () => {
    server = await createTestServer();
    admin = await signIn(server.app, server.context, ['admin']);
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);

  it('signs in with a bearer token and a session cookie, and /me answers the user', async () => {
    const login = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: admin.user.email, password: PASSWORD } });
    expect(login.statusCode).toBe(200);
    const cookie = login.cookies.find((c) => c.name === 'sb_session');
    expect(cookie?.httpOnly).toBe(true);
    const byCookie = await inject({ method: 'GET', url: '/api/v1/me', cookies: { sb_session: cookie!.value } });
    expect(byCookie.json()).toMatchObject({ id: admin.user.id, roles: ['admin'] });
    const byBearer = await inject({ method: 'GET', url: '/api/v1/me', headers: admin.headers });
    expect(byBearer.json()).toMatchObject({ email: admin.user.email });
  });

  it('refuses a wrong password and an unknown e-mail alike', async () => {
    const wrong = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: admin.user.email, password: 'nope-nope' } });
    const unknown = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ghost@test.samplebank', password: 'nope-nope' } });
    expect(problem(wrong, 401, 'invalid-credentials').detail).toBe(problem(unknown, 401, 'invalid-credentials').detail);
  });

  it('lets an admin create institutions and users, and refuses others', async () => {
    const code = unique('INST').toUpperCase();
    const created = await inject({ method: 'POST', url: '/api/v1/institutions', headers: admin.headers, payload: { code, name: 'Institute of Geochemistry' } });
    expect(created.statusCode).toBe(201);
    const institution = created.json() as { id: string };
    const duplicate = await inject({ method: 'POST', url: '/api/v1/institutions', headers: admin.headers, payload: { code, name: 'Again' } });
    expect(problem(duplicate, 409, 'duplicate').errors[0]?.field).toBe('code');

    const user = await inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin.headers,
      payload: { email: `${unique('pi')}@test.samplebank`, name: 'Li Wei', password: PASSWORD, institutionId: institution.id, roles: ['applicant'] },
    });
    expect(user.statusCode).toBe(201);
    expect(user.json()).not.toHaveProperty('password');
    expect(JSON.stringify(user.json())).not.toContain('argon2');

    const curator = await signIn(server.app, server.context, ['curator']);
    problem(await inject({ method: 'POST', url: '/api/v1/institutions', headers: curator.headers, payload: { code: unique('X'), name: 'X' } }), 403, 'forbidden');
    problem(await inject({ method: 'GET', url: `/api/v1/users/${admin.user.id}`, headers: curator.headers }), 403, 'forbidden');
    problem(await inject({ method: 'GET', url: '/api/v1/institutions' }), 401, 'unauthenticated');
  });

  it('creates, uses and revokes an API token', async () => {
    const created = await inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: admin.headers, payload: { name: 'cli' } });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json() as { id: string; token: string };
    expect((await inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    expect((await inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${id}`, headers: admin.headers })).statusCode).toBe(204);
    problem(await inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } }), 401, 'unauthenticated');
  });

  it('honours a token revoked by another process for at most the token cache time', async () => {
    const { token } = (await inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: admin.headers, payload: { name: 'other process' } })).json() as { token: string };
    const db = server.context.handle.db;
    const cached = createIdentityService(db, { tokenCacheMs: 400 });
    const uncached = createIdentityService(db, { tokenCacheMs: 0 });
    expect((await cached.authenticate(token))?.userId).toBe(admin.user.id);
    // Revoked behind both services' backs, as another server process would.
    await db.updateTable('auth_tokens').set({ revoked_at: new Date() }).where('token_hash', '=', hashSecret(token)).execute();
    expect(await uncached.authenticate(token)).toBeNull();
    expect((await cached.authenticate(token))?.userId).toBe(admin.user.id);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(await cached.authenticate(token)).toBeNull();
  });

  it('answers bad input with problem+json naming the field and changes nothing', async () => {
    const badEmail = await inject({ method: 'POST', url: '/api/v1/users', headers: admin.headers, payload: { email: 'not-an-email', name: 'X', password: PASSWORD, roles: [] } });
    expect(problem(badEmail, 400, 'validation-failed').errors.map((e) => e.field)).toContain('email');
    const badRole = await inject({ method: 'POST', url: '/api/v1/users', headers: admin.headers, payload: { email: 'a@b.cd', name: 'X', password: PASSWORD, roles: ['king'] } });
    expect(problem(badRole, 400, 'validation-failed').errors[0]?.field).toBe('roles.0');
    const malformed = await inject({ method: 'POST', url: '/api/v1/institutions', headers: { ...admin.headers, 'content-type': 'application/json' }, payload: '{"code":' });
    problem(malformed, 400, 'malformed-request');
    const wrongType = await inject({ method: 'POST', url: '/api/v1/institutions', headers: { ...admin.headers, 'content-type': 'text/plain' }, payload: 'code=X' });
    problem(wrongType, 415, 'unsupported-media-type');
    const unknownKey = await inject({ method: 'POST', url: '/api/v1/institutions', headers: admin.headers, payload: { code: unique('U').toUpperCase(), name: 'U', colour: 'red' } });
    expect(problem(unknownKey, 400, 'validation-failed').errors).toEqual([{ field: 'colour', message: 'is not a known field' }]);
    const badId = await inject({ method: 'GET', url: '/api/v1/users/not-a-uuid', headers: admin.headers });
    expect(problem(badId, 400, 'validation-failed').errors[0]?.field).toBe('id');
    const list = await inject({ method: 'GET', url: '/api/v1/users?limit=500', headers: admin.headers });
    expect((list.json() as { items: Array<{ email: string }> }).items.some((u) => u.email === 'a@b.cd')).toBe(false);
  });
});
