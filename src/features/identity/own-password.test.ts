/** Changing your own password ends every other session and API token of yours, and keeps the one you are using. */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { PASSWORD, problem, signIn, type SignedIn } from '../../../test/factories.js';

describe(`changing your own password on ${engine}`, () => {
  let server: TestServer;
  let admin: SignedIn;
  beforeAll(async () => {
    // The production default: a token cache that the change must clear, or session B lives on in it.
    server = await createTestServer({ tokenCacheSeconds: 5 });
    admin = await signIn(server.app, server.context, ['admin']);
  });
  afterAll(async () => server?.close());
  const inject = (options: InjectOptions) => server.app.inject(options);
  const me = (headers: Record<string, string>) => inject({ method: 'GET', url: '/api/v1/me', headers });

  it('revokes session B and the API token, keeps session A, and records how many it revoked', async () => {
    const a = await signIn(server.app, server.context, ['applicant']);
    const b = (await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a.user.email, password: PASSWORD } })).json() as { token: string };
    const sessionB = { authorization: `Bearer ${b.token}` };
    const apiToken = (await inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: a.headers, payload: { name: 'script' } })).json() as { token: string };
    const tokenHeaders = { authorization: `Bearer ${apiToken.token}` };
    // All three work (and are now in the token cache).
    for (const headers of [a.headers, sessionB, tokenHeaders]) expect((await me(headers)).statusCode).toBe(200);

    const changed = await inject({ method: 'POST', url: '/api/v1/me/password', headers: a.headers, payload: { currentPassword: PASSWORD, newPassword: 'a-brand-new-password' } });
    expect(changed.statusCode).toBe(204);

    problem(await me(sessionB), 401, 'unauthenticated');
    problem(await me(tokenHeaders), 401, 'unauthenticated');
    expect((await me(a.headers)).json()).toMatchObject({ id: a.user.id });

    const events = (await inject({ method: 'GET', url: `/api/v1/audit/events?entityId=${a.user.id}&limit=100`, headers: admin.headers })).json() as {
      items: Array<{ action: string; data: Record<string, unknown> }>;
    };
    expect(events.items.find((e) => e.action === 'user.password-change')?.data).toEqual({ tokensRevoked: 2 });
  });

  it('keeps the session cookie used for the change, too', async () => {
    const who = await signIn(server.app, server.context, ['curator']);
    const login = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: who.user.email, password: PASSWORD } });
    const cookie = login.cookies.find((c) => c.name === 'sb_session')!.value;
    const changed = await inject({ method: 'POST', url: '/api/v1/me/password', cookies: { sb_session: cookie }, payload: { currentPassword: PASSWORD, newPassword: 'another-new-password' } });
    expect(changed.statusCode).toBe(204);
    expect((await inject({ method: 'GET', url: '/api/v1/me', cookies: { sb_session: cookie } })).statusCode).toBe(200);
    problem(await me(who.headers), 401, 'unauthenticated');
  });
});
