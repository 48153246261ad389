import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../platform/config.js';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { PASSWORD, problem, signIn, unique, type SignedIn } from '../../../test/factories.js';

describe(`login rate limit per client address on ${engine}`, () => {
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

  const login = (email: string, password: string, ip: string) =>
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
});
