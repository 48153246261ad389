/** API tokens expire: after the server's default unless the creator asks for fewer or more days, up to its maximum. */
import crypto from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../core/actor.js';
import { loadConfig } from '../../platform/config.js';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { problem, signIn, type SignedIn } from '../../../test/factories.js';
import { createIdentityService } from './identity.service.js';
import { newSecret } from './password.js';

const DAY_MS = 24 * 3600 * 1000;
/** Days from now to an ISO date, to the minute. */
const daysUntil = (iso: string | null) => (iso === null ? null : Math.round(((new Date(iso).getTime() - Date.now()) / DAY_MS) * 1440) / 1440);

describe(`API token expiry on ${engine}`, () => {
  let server: TestServer;
  let user: SignedIn;
  beforeAll(async () => {
    server = await createTestServer();
    user = await signIn(server.app, server.context, ['applicant']);
  });
  afterAll(async () => server?.close());
  const inject = (options: InjectOptions) => server.app.inject(options);
  const create = (payload: Record<string, unknown>) => inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: user.headers, payload });
  const list = async () => ((await inject({ method: 'GET', url: '/api/v1/auth/tokens', headers: user.headers })).json() as { items: Array<{ id: string; expiresAt: string | null }> }).items;

  it('gives a token the default of 90 days when none is asked for, never null', async () => {
    const created = await create({ name: 'default' });
    expect(created.statusCode).toBe(201);
    const body = created.json() as { id: string; expiresAt: string | null };
    expect(daysUntil(body.expiresAt)).toBe(90);
    expect(daysUntil((await list()).find((t) => t.id === body.id)!.expiresAt)).toBe(90);
  });

  it('gives fewer or more days when asked, up to the maximum of 365', async () => {
    expect(daysUntil((await create({ name: 'short', expiresInDays: 7 })).json<{ expiresAt: string }>().expiresAt)).toBe(7);
    expect(daysUntil((await create({ name: 'long', expiresInDays: 365 })).json<{ expiresAt: string }>().expiresAt)).toBe(365);
    const tooLong = problem(await create({ name: 'too long', expiresInDays: 366 }), 400, 'validation-failed');
    expect(tooLong.errors).toHaveLength(1);
    expect(tooLong.errors[0]!.field).toBe('expiresInDays');
    expect(tooLong.errors[0]!.message).toMatch(/at most 365 days/);
    expect((await list()).some((t) => daysUntil(t.expiresAt) === 366)).toBe(false);
  });

  it('takes its default and maximum from the configuration, checked by the service too', async () => {
    const identity = createIdentityService(server.context.handle.db, { apiTokenDays: 3, apiTokenMaxDays: 30 });
    const actor = { ...systemActor, userId: user.user.id, roles: user.user.roles };
    expect(daysUntil((await identity.createApiToken(actor, { name: 'three' })).expiresAt.toISOString())).toBe(3);
    expect(daysUntil((await identity.createApiToken(actor, { name: 'thirty', expiresInDays: 30 })).expiresAt.toISOString())).toBe(30);
    await expect(identity.createApiToken(actor, { name: 'too long', expiresInDays: 31 })).rejects.toMatchObject({
      code: 'validation-failed',
      errors: [{ field: 'expiresInDays', message: expect.stringMatching(/from 1 to 30\b/) as string }],
    });
  });

  it('leaves a token made before expiry existed as it was: without an expiry, still working', async () => {
    const { secret, hash } = newSecret('sbt');
    await server.context.handle.db
      .insertInto('auth_tokens')
      .values({ id: crypto.randomUUID(), user_id: user.user.id, kind: 'api', name: 'old script', token_hash: hash, expires_at: null })
      .execute();
    expect((await inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${secret}` } })).statusCode).toBe(200);
    expect((await list()).some((t) => t.expiresAt === null)).toBe(true);
  });

  it('reads SAMPLEBANK_API_TOKEN_DAYS and SAMPLEBANK_API_TOKEN_MAX_DAYS, refusing a default above the maximum', () => {
    expect(loadConfig({})).toMatchObject({ apiTokenDays: 90, apiTokenMaxDays: 365 });
    expect(loadConfig({ SAMPLEBANK_API_TOKEN_DAYS: '30', SAMPLEBANK_API_TOKEN_MAX_DAYS: '60' })).toMatchObject({ apiTokenDays: 30, apiTokenMaxDays: 60 });
    expect(() => loadConfig({ SAMPLEBANK_API_TOKEN_DAYS: '400' })).toThrow(/SAMPLEBANK_API_TOKEN_DAYS: must not exceed SAMPLEBANK_API_TOKEN_MAX_DAYS \(365\)/);
    expect(() => loadConfig({ SAMPLEBANK_API_TOKEN_MAX_DAYS: '0' })).toThrow(/SAMPLEBANK_API_TOKEN_MAX_DAYS/);
  });
});
