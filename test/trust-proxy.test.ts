/**
 * SAMPLEBANK_TRUST_PROXY: behind a trusted proxy the login rate limit counts
 * each real client (X-Forwarded-For); without it, or from an address that is
 * not a trusted proxy, the header is ignored, so a client cannot dodge the
 * limit by inventing addresses.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/platform/config.js';
import { createTestServer, engine, type TestServer } from './harness.js';
import { unique } from './factories.js';

const LIMIT = 3;

describe(`trustProxy and the login rate limit (${engine})`, () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
  });
  async function server(trustProxy: Config['trustProxy']): Promise<TestServer> {
    const created = await createTestServer({ trustProxy, loginRateLimit: LIMIT });
    servers.push(created);
    return created;
  }
  const login = (target: TestServer, remoteAddress: string, forwardedFor: string) =>
    target.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress,
      headers: { 'x-forwarded-for': forwardedFor },
      // A new address every time: the per-account back-off (5 failures) must not be what answers 429 here.
      payload: { email: `${unique('nobody')}@test.samplebank`, password: 'wrong-password' },
    });
  /** The statuses of LIMIT + 1 sign-in attempts. */
  async function attempts(target: TestServer, remoteAddress: string, forwardedFor: (i: number) => string): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) statuses.push((await login(target, remoteAddress, forwardedFor(i))).statusCode);
    return statuses;
  }

  it('limits each client behind a trusted proxy separately', async () => {
    const target = await server(['127.0.0.1']);
    expect(await attempts(target, '127.0.0.1', () => '203.0.113.1')).toEqual([401, 401, 401, 429]);
    // Another client behind the same proxy has its own allowance.
    expect((await login(target, '127.0.0.1', '203.0.113.2')).statusCode).toBe(401);
    // Only the address the trusted proxy saw counts, not what the client claimed before it.
    expect((await login(target, '127.0.0.1', '198.51.100.99, 203.0.113.1')).statusCode).toBe(429);
    // From an address that is not a trusted proxy, the header is ignored: invented addresses share one limit.
    expect(await attempts(target, '192.0.2.50', (i) => `203.0.113.${100 + i}`)).toEqual([401, 401, 401, 429]);
  });

  it('takes a hop count as the number of proxies in front', async () => {
    const target = await server(1);
    expect(await attempts(target, '10.0.0.1', () => '203.0.113.3')).toEqual([401, 401, 401, 429]);
    expect((await login(target, '10.0.0.1', '203.0.113.4')).statusCode).toBe(401);
  });

  it('ignores X-Forwarded-For by default, so a client cannot spoof its way out of the limit', async () => {
    const target = await server(false);
    expect(await attempts(target, '127.0.0.1', (i) => `203.0.113.${10 + i}`)).toEqual([401, 401, 401, 429]);
    expect((await login(target, '127.0.0.1', '203.0.113.99')).statusCode).toBe(429);
  });
});
