import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../core/actor.js';
import { loadConfig } from '../../platform/config.js';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { PASSWORD, problem, signIn, unique, type SignedIn } from '../../../test/factories.js';

describe(`login rate limit and per-account back-off on ${engine}`, () => {
  let server: TestServer;
  let admin: SignedIn;
  beforeAll(async () => {
    // The production default, which the test harness raises for every other test file.
    const { loginRateLimit } = loadConfig({});
    expect(loginRateLimit).toBe(10);
    server = await createTestServer({ loginRateLimit });
    admin = await signIn(server.app, server.context, ['admin']);
  });
  afterAll(async () => server?.close());

  const login = (email: string, password: string, ip = '203.0.113.7') =>
    server.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { email, password } });

  it('answers the 11th login attempt from one address within a minute with 429 rate-limited and Retry-After', async () => {
    const ip = '198.51.100.11';
    for (let i = 1; i <= 10; i++) {
      const response = await login(`${unique('nobody')}@test.samplebank`, 'wrong-password', ip);
      expect(response.statusCode, `attempt ${i}`).toBe(401);
    }
    const eleventh = await login(admin.user.email, PASSWORD, ip);
    const body = problem(eleventh, 429, 'rate-limited');
    expect(body.detail).toMatch(/wait|try again/i);
    const retryAfter = Number(eleventh.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // Another address is not affected, and neither are other endpoints from the limited one.
    expect((await login(admin.user.email, PASSWORD, '198.51.100.12')).statusCode).toBe(200);
    for (let i = 0; i < 15; i++) {
      const me = await server.app.inject({ method: 'GET', url: '/api/v1/me', headers: admin.headers, remoteAddress: ip });
      expect(me.statusCode).toBe(200);
    }
    const health = await server.app.inject({ method: 'GET', url: '/api/health', remoteAddress: ip });
    expect(health.statusCode).toBe(200);
  });

  it('limits the setup endpoint the same way', async () => {
    const ip = '198.51.100.21';
    for (let i = 0; i < 10; i++) {
      const response = await server.app.inject({ method: 'POST', url: '/api/v1/setup', remoteAddress: ip, payload: { token: 'x', email: 'a@b.cd', name: 'A', password: PASSWORD } });
      expect(response.statusCode).not.toBe(429);
    }
    const eleventh = await server.app.inject({ method: 'POST', url: '/api/v1/setup', remoteAddress: ip, payload: { token: 'x', email: 'a@b.cd', name: 'A', password: PASSWORD } });
    problem(eleventh, 429, 'rate-limited');
  });

  it('backs off one account after repeated wrong passwords from many addresses, without telling whether it exists', async () => {
    const email = `${unique('victim')}@test.samplebank`;
    await server.context.services.identity.createUser(systemActor, { email, name: 'V', password: PASSWORD, roles: ['applicant'] });
    for (let i = 0; i < 5; i++) {
      const response = await login(email, 'wrong-password', `192.0.2.${i + 1}`);
      problem(response, 401, 'invalid-credentials');
    }
    // Now even the right password is refused for a while, with the same answer an unknown account gets.
    const locked = await login(email, PASSWORD, '192.0.2.50');
    const body = problem(locked, 429, 'rate-limited');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    const ghostEmail = `${unique('ghost')}@test.samplebank`;
    for (let i = 0; i < 5; i++) problem(await login(ghostEmail, 'wrong-password', `192.0.2.${60 + i}`), 401, 'invalid-credentials');
    const ghost = await login(ghostEmail, 'wrong-password', '192.0.2.70');
    expect(problem(ghost, 429, 'rate-limited').detail).toBe(body.detail);

    // Other accounts sign in normally.
    expect((await login(admin.user.email, PASSWORD, '192.0.2.51')).statusCode).toBe(200);

    // When the back-off has passed, the right password works and clears the count.
    await server.context.handle.db.updateTable('login_throttle').set({ locked_until: new Date(Date.now() - 1000) }).where('email', '=', email.toLowerCase()).execute();
    expect((await login(email, PASSWORD, '192.0.2.52')).statusCode).toBe(200);
    const row = await server.context.handle.db.selectFrom('login_throttle').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
    expect(row).toBeUndefined();
  });
});
