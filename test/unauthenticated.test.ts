/**
 * Every /api/v1 route in the OpenAPI document needs a credential, except the
 * few that are public by design (sign-in, sign-out, first-admin setup, and the
 * public catalog and call statistics, which carry nothing personal, and whether
 * demo accounts exist, for the banner): without
 * one it answers 401 problem+json `unauthenticated`, before it reads the body,
 * whatever the method, path parameters or body. A new public route has to be
 * added to PUBLIC here on purpose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from './harness.js';

const PUBLIC = new Set(['POST /api/v1/auth/login', 'POST /api/v1/auth/logout', 'GET /api/v1/setup', 'POST /api/v1/setup', 'GET /api/v1/catalog', 'GET /api/v1/calls/{id}/statistics', 'GET /api/v1/demo']);
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

describe(`anonymous callers on ${engine}`, () => {
  let server: TestServer;
  let routes: Array<{ method: (typeof METHODS)[number]; path: string }>;
  beforeAll(async () => {
    server = await createTestServer();
    const document = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(document.paths).flatMap(([path, operations]) =>
      METHODS.filter((method) => method in operations).map((method) => ({ method, path })),
    );
  });
  afterAll(async () => server?.close());

  it('finds the API in the OpenAPI document', () => {
    expect(routes.length).toBeGreaterThan(20);
    for (const name of PUBLIC) expect(routes.map((r) => `${r.method.toUpperCase()} ${r.path}`)).toContain(name);
  });

  it('answers 401 problem+json on every other /api/v1 route, with or without a body, and with a bad or revoked token', async () => {
    const failures: string[] = [];
    for (const { method, path } of routes) {
      const name = `${method.toUpperCase()} ${path}`;
      if (PUBLIC.has(name) || !path.startsWith('/api/v1/')) continue;
      const url = path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
      const attempts = [
        { headers: {} },
        { headers: { authorization: 'Bearer sbs_not-a-real-token' } },
        { headers: {}, cookies: { sb_session: 'sbs_forged' } },
      ];
      for (const attempt of attempts) {
        const hasBody = method === 'post' || method === 'put' || method === 'patch';
        const response = await server.app.inject({ method: method.toUpperCase() as 'GET', url, ...attempt, ...(hasBody ? { payload: { anything: 'x' } } : {}) });
        const type = response.headers['content-type'];
        const body = response.statusCode === 401 ? (response.json() as { type?: string }) : {};
        if (response.statusCode !== 401 || !String(type).startsWith('application/problem+json') || body.type !== 'unauthenticated') {
          failures.push(`${name} (${Object.keys(attempt.headers).length > 0 ? 'bad token' : 'cookies' in attempt ? 'forged cookie' : 'no credential'}): ${response.statusCode} ${response.body.slice(0, 120)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('keeps the public routes public', async () => {
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/setup' })).statusCode).toBe(200);
    expect((await server.app.inject({ method: 'POST', url: '/api/v1/auth/logout' })).statusCode).toBe(204);
    const login = await server.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'nobody@test.samplebank', password: 'wrong-password' } });
    expect(login.statusCode).toBe(401);
    expect((login.json() as { type: string }).type).toBe('invalid-credentials');
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/catalog' })).statusCode).toBe(200);
    // Public, but only for a call that exists and is past draft: an unknown one is 404, not 401.
    const statistics = await server.app.inject({ method: 'GET', url: '/api/v1/calls/00000000-0000-4000-8000-000000000000/statistics' });
    expect(statistics.statusCode).toBe(404);
    expect((statistics.json() as { type: string }).type).toBe('not-found');
    expect((await server.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
    expect((await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).statusCode).toBe(200);
  });
});
