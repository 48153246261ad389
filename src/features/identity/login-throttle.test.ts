/**
 * Failed sign-ins slow down the address they come from, not the account's owner elsewhere
 * (login-throttle.ts). The route's per-address request limit is raised by the harness here, so
 * every 429 below is the throttle's.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../core/actor.js';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { PASSWORD, problem, unique } from '../../../test/factories.js';
import { LOGIN_THROTTLE, addressKey } from './login-throttle.js';

describe(`sign-in throttling by client address on ${engine}`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
  });
  afterAll(async () => server?.close());

  const login = (email: string, password: string, remoteAddress: string) =>
    server.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress, payload: { email, password } });
  async function account(roles: Array<'admin' | 'applicant'> = ['admin']): Promise<string> {
    const email = `${unique('owner')}@test.samplebank`;
    await server.context.services.identity.createUser(systemActor, { email, name: 'Owner', password: PASSWORD, roles });
    return email;
  }

  it("slows the attacker's address on the admin's e-mail with 429 and Retry-After, while the owner elsewhere signs in at once", async () => {
    const admin = await account();
    const attacker = '203.0.113.7';
    for (let i = 1; i <= LOGIN_THROTTLE.pair.threshold; i++) problem(await login(admin, `guess-${i}-wrong`, attacker), 401, 'invalid-credentials');
    const refused = await login(admin, 'guess-6-wrong', attacker);
    expect(problem(refused, 429, 'rate-limited').detail).toMatch(/try again/);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(LOGIN_THROTTLE.pair.baseSeconds - 1);
    expect(retryAfter).toBeLessThanOrEqual(LOGIN_THROTTLE.pair.baseSeconds);
    // Even the right password waits there: the address, not the guess, is what is slowed.
    problem(await login(admin, PASSWORD, attacker), 429, 'rate-limited');

    // The owner, from another address, is not made to wait, and keeps being let in while the attacker keeps trying.
    expect((await login(admin, PASSWORD, '198.51.100.20')).statusCode).toBe(200);
    for (let i = 0; i < 3; i++) problem(await login(admin, 'still-guessing', attacker), 429, 'rate-limited');
    expect((await login(admin, PASSWORD, '198.51.100.20')).statusCode).toBe(200);
  });

  it('lets the wait grow with further failures, up to its cap', async () => {
    const email = await account(['applicant']);
    const attacker = '203.0.113.8';
    const waits: number[] = [];
    for (let i = 0; i < 20; i++) {
      const response = await login(email, 'wrong-wrong', attacker);
      if (response.statusCode === 429) {
        waits.push(Number(response.headers['retry-after']));
        // The attacker waits it out (the database is told time has passed).
        await server.context.handle.db.executeQuery(sql`update login_failures set wait_until = now() - interval '1 second' where account = ${email.toLowerCase()}`.compile(server.context.handle.db));
      }
    }
    // 30 s, 1, 2, 4, 8 min, then 15 min (a second less, when the clock ticked in between).
    expect(waits.slice(0, 5).map((w) => Math.round(w / 30))).toEqual([1, 2, 4, 8, 16]);
    expect(waits.slice(5).length).toBeGreaterThan(1);
    for (const wait of waits.slice(5)) expect(wait).toBeGreaterThanOrEqual(LOGIN_THROTTLE.pair.maxSeconds - 1);
    for (const wait of waits) expect(wait).toBeLessThanOrEqual(LOGIN_THROTTLE.pair.maxSeconds);
  });

  it('slows one address trying a fresh e-mail every time, and not the others', async () => {
    const attacker = '203.0.113.9';
    for (let i = 1; i <= LOGIN_THROTTLE.address.threshold; i++) {
      problem(await login(`${unique('spray')}@test.samplebank`, 'wrong-wrong', attacker), 401, 'invalid-credentials');
    }
    const refused = await login(`${unique('spray')}@test.samplebank`, 'wrong-wrong', attacker);
    problem(refused, 429, 'rate-limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    problem(await login(await account(['applicant']), PASSWORD, attacker), 429, 'rate-limited');
    // Another address is not slowed.
    problem(await login(`${unique('spray')}@test.samplebank`, 'wrong-wrong', '198.51.100.30'), 401, 'invalid-credentials');
  });

  it('counts an IPv6 attacker by its /64, however many addresses in it they use', async () => {
    const email = await account(['applicant']);
    for (let i = 1; i <= LOGIN_THROTTLE.pair.threshold; i++) problem(await login(email, 'wrong-wrong', `2001:db8:1:2::${i.toString(16)}`), 401, 'invalid-credentials');
    problem(await login(email, 'wrong-wrong', '2001:db8:1:2:ffff:1:2:3'), 429, 'rate-limited');
    expect((await login(email, PASSWORD, '2001:db8:1:3::1')).statusCode).toBe(200);
  });

  it('keeps a weak ceiling per account against many addresses, which never holds back the owner where they signed in before', async () => {
    const email = await account(['applicant']);
    expect((await login(email, PASSWORD, '198.51.100.40')).statusCode).toBe(200);
    // A botnet has tried this account from more addresses than a test should make: its count is at the ceiling.
    const { threshold } = LOGIN_THROTTLE.account;
    await server.context.handle.db.executeQuery(
      sql`insert into login_failures (account, address, failures, wait_until) values (${email.toLowerCase()}, '', ${threshold}, now() + interval '30 seconds')`.compile(server.context.handle.db),
    );
    problem(await login(email, PASSWORD, '192.0.2.200'), 429, 'rate-limited');
    expect((await login(email, PASSWORD, '198.51.100.40')).statusCode).toBe(200);
  });

  it("forgives the address's failures on the account once it signs in", async () => {
    const email = await account(['applicant']);
    const here = '198.51.100.50';
    for (let i = 1; i < LOGIN_THROTTLE.pair.threshold; i++) problem(await login(email, 'typo-typo', here), 401, 'invalid-credentials');
    expect((await login(email, PASSWORD, here)).statusCode).toBe(200);
    for (let i = 1; i < LOGIN_THROTTLE.pair.threshold; i++) problem(await login(email, 'typo-typo', here), 401, 'invalid-credentials');
    expect((await login(email, PASSWORD, here)).statusCode).toBe(200);
  });

  it('keys addresses: IPv4 as itself (also written as IPv6), IPv6 by its /64', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('2001:0DB8:0000:0001:abcd::1%eth0')).toBe('2001:db8:0:1::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('64:ff9b:1:2:3:4:192.0.2.1')).toBe('64:ff9b:1:2::/64');
  });
});
