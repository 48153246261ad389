/**
 * Safe defaults on a real deployment's first start: the demo, with its
 * published password, loads only into a brand-new database and never in
 * production or when the first admin comes from the environment; the session
 * cookie is Secure when the app is reached over https.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemActor } from '../src/core/actor.js';
import { shouldLoadDemo } from '../src/features/demo/demo.js';
import { loadConfig } from '../src/platform/config.js';
import { createPostgresDatabase, createTestContext, createTestServer, engine } from './harness.js';
import { createInstitution, unique } from './factories.js';
import { ADMIN, startServe } from './serve-process.js';

describe('whether serve loads the demo', () => {
  it('loads it into a brand-new database only, never in production, with an admin from the environment or with SAMPLEBANK_DEMO=0', async () => {
    const cases: Array<[Parameters<typeof createTestContext>[0], boolean, RegExp]> = [
      [{ demo: true }, true, /brand-new/],
      [{ demo: true, production: true }, false, /NODE_ENV=production/],
      [{ demo: true, adminEmail: 'ops@bank.example.org', adminPassword: 'long-enough-password' }, false, /SAMPLEBANK_ADMIN_EMAIL/],
      [{ demo: false }, false, /SAMPLEBANK_DEMO=0/],
    ];
    for (const [overrides, load, why] of cases) {
      const context = await createTestContext(overrides);
      try {
        const decision = await shouldLoadDemo(context);
        expect(decision.load, JSON.stringify(overrides)).toBe(load);
        expect(decision.why).toMatch(why);
      } finally {
        await context.dispose();
      }
    }
  });

  it('never loads it into a database that has users, even when its last collection is gone', async () => {
    const context = await createTestContext({ demo: true });
    try {
      const institution = await createInstitution(context);
      await context.services.identity.createUser(systemActor, { email: `${unique('u')}@bank.example.org`, name: 'Someone', password: 'a-long-password', institutionId: institution.id, roles: ['curator'] });
      expect(await shouldLoadDemo(context)).toEqual({ load: false, why: 'the database already has users' });
    } finally {
      await context.dispose();
    }
  });
});

describe('the session cookie', () => {
  it('is Secure by default when the public address is https, and as configured otherwise', () => {
    expect(loadConfig({ SAMPLEBANK_PUBLIC_URL: 'https://samples.example.org' }).cookieSecure).toBe(true);
    expect(loadConfig({ SAMPLEBANK_PUBLIC_URL: 'http://localhost:3000' }).cookieSecure).toBe(false);
    expect(loadConfig({}).cookieSecure).toBe(false);
    expect(loadConfig({ SAMPLEBANK_PUBLIC_URL: 'https://samples.example.org', SAMPLEBANK_COOKIE_SECURE: '0' }).cookieSecure).toBe(false);
    expect(loadConfig({ SAMPLEBANK_COOKIE_SECURE: '1' }).cookieSecure).toBe(true);
  });

  it('carries Secure, HttpOnly and SameSite on sign-in when served over https', async () => {
    const config = loadConfig({ SAMPLEBANK_PUBLIC_URL: 'https://samples.example.org' });
    const server = await createTestServer({ publicUrl: config.publicUrl, cookieSecure: config.cookieSecure });
    try {
      const institution = await createInstitution(server.context);
      const email = `${unique('c')}@bank.example.org`;
      await server.context.services.identity.createUser(systemActor, { email, name: 'Cookie', password: 'a-long-password', institutionId: institution.id, roles: ['curator'] });
      const login = await server.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'a-long-password' } });
      expect(login.statusCode, login.body).toBe(200);
      const cookie = String(login.headers['set-cookie']);
      expect(cookie).toMatch(/sb_session=/);
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; SameSite=(Lax|Strict)/);
    } finally {
      await server.close();
    }
  });
});

describe(`npm start with SAMPLEBANK_ADMIN_EMAIL on an empty database (${engine})`, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-first-start-'));
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('creates the admin from the environment and no demo account: the demo admin gets 401', async () => {
    let env: Record<string, string> = { DATA_DIR: path.join(tmp, 'data') };
    if (engine === 'postgres') {
      const database = await createPostgresDatabase('sb_first_start');
      cleanups.push(database.drop);
      env = { DATABASE_URL: database.url };
    }
    // The demo switch is on, as it is by default: the admin from the environment is what keeps the demo out.
    const serve = await startServe({ ...env, SAMPLEBANK_DEMO: '1' });
    try {
      const demoLogin = await fetch(`${serve.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@demo.samplebank.test', password: 'demo-password' }) });
      expect(demoLogin.status).toBe(401);
      expect(await (await fetch(`${serve.url}/api/v1/demo`)).json()).toEqual({ accounts: 0, domain: 'demo.samplebank.test' });
      const login = await fetch(`${serve.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
      expect(login.status).toBe(200);
      const { token } = (await login.json()) as { token: string };
      const collections = (await (await fetch(`${serve.url}/api/v1/collections`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: unknown[] };
      expect(collections.items).toEqual([]);
      expect(serve.output()).not.toContain('Demo accounts');
    } finally {
      serve.child.kill('SIGTERM');
      expect((await serve.exited).code, serve.output()).toBe(0);
    }
  }, 300_000);
});
