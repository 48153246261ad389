import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { PASSWORD, problem } from '../../../test/factories.js';
import { hashSecret } from './password.js';

/** One fresh database with no user at all: the tests run in order, from first start to setup done. */
describe(`first-admin setup link on ${engine}`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);
  const setup = () => server.context.services.setup;
  const users = async (): Promise<number> =>
    Number((await server.context.handle.db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
  const body = (token: string, email = 'first.admin@test.samplebank') => ({ token, email, name: 'First Admin', password: PASSWORD });

  it('says setup is required and serves the setup page while no user exists', async () => {
    expect((await inject({ method: 'GET', url: '/api/v1/setup' })).json()).toEqual({ required: true });
    const page = await inject({ method: 'GET', url: '/setup?token=abc' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('/api/v1/setup');
  });

  it('stores only a hash of the link secret, and a new link ends the previous one', async () => {
    const first = await setup().createLink();
    expect(first?.token).toMatch(/^sbsetup_[A-Za-z0-9_-]{40,}$/);
    const rows = await server.context.handle.db.selectFrom('auth_tokens').select(['token_hash', 'kind', 'user_id', 'expires_at', 'revoked_at']).where('kind', '=', 'setup').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(hashSecret(first!.token));
    expect(JSON.stringify(rows)).not.toContain(first!.token);
    expect(rows[0]!.expires_at!.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);

    const second = await setup().createLink();
    const stale = await inject({ method: 'POST', url: '/api/v1/setup', payload: body(first!.token) });
    expect(problem(stale, 401, 'invalid-credentials').errors[0]?.field).toBe('token');
    expect(second?.token).not.toBe(first?.token);
    // A setup secret is never a sign-in.
    problem(await inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${second!.token}` } }), 401, 'unauthenticated');
    expect(await users()).toBe(0);
  });

  it('refuses a wrong or expired token and bad input, naming the field, and creates nobody', async () => {
    const wrong = await inject({ method: 'POST', url: '/api/v1/setup', payload: body('sbsetup_not-the-token') });
    expect(problem(wrong, 401, 'invalid-credentials').errors[0]?.field).toBe('token');

    const expired = await setup().createLink({ minutes: -1 });
    problem(await inject({ method: 'POST', url: '/api/v1/setup', payload: body(expired!.token) }), 401, 'invalid-credentials');

    const live = await setup().createLink();
    const shortPassword = await inject({ method: 'POST', url: '/api/v1/setup', payload: { ...body(live!.token), password: 'short' } });
    expect(problem(shortPassword, 400, 'validation-failed').errors[0]?.field).toBe('password');
    const badEmail = await inject({ method: 'POST', url: '/api/v1/setup', payload: { ...body(live!.token), email: 'nope' } });
    expect(problem(badEmail, 400, 'validation-failed').errors[0]?.field).toBe('email');
    const extra = await inject({ method: 'POST', url: '/api/v1/setup', payload: { ...body(live!.token), roles: ['admin'] } });
    problem(extra, 400, 'validation-failed');
    expect(await users()).toBe(0);
  });

  it('creates exactly one admin when the same link is used twice at once, and the admin can sign in', async () => {
    const link = await setup().createLink();
    const [a, b] = await Promise.all([
      inject({ method: 'POST', url: '/api/v1/setup', payload: body(link!.token, 'first.admin@test.samplebank') }),
      inject({ method: 'POST', url: '/api/v1/setup', payload: body(link!.token, 'second.admin@test.samplebank') }),
    ]);
    const statuses = [a.statusCode, b.statusCode].sort();
    expect(statuses[0]).toBe(201);
    expect(statuses[1]).toBeGreaterThanOrEqual(400);
    const created = (a.statusCode === 201 ? a : b).json() as { email: string; roles: string[]; institutionId: string | null };
    expect(created.roles).toEqual(['admin']);
    expect(await users()).toBe(1);

    const login = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: created.email, password: PASSWORD } });
    expect(login.statusCode).toBe(200);
    const me = await inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${(login.json() as { token: string }).token}` } });
    expect(me.json()).toMatchObject({ email: created.email, roles: ['admin'] });
    const audit = await server.context.handle.db.selectFrom('audit_events').select(['action', 'entity_id']).where('action', '=', 'user.setup').execute();
    expect(audit).toHaveLength(1);
  });

  it('refuses setup once a user exists, even with a token that was valid, and issues no new link', async () => {
    expect((await inject({ method: 'GET', url: '/api/v1/setup' })).json()).toEqual({ required: false });
    expect(await setup().createLink()).toBeNull();
    const again = await inject({ method: 'POST', url: '/api/v1/setup', payload: body('sbsetup_anything', 'third@test.samplebank') });
    problem(again, 409, 'conflict');
    expect(await users()).toBe(1);
  });
});
