/**
 * `samplebank demo --remove`, run as an operator runs it against a temp
 * DATA_DIR: refused while the demo's admin is the only admin, then every
 * account at demo.samplebank.test retired (and only those), the records kept.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../src/core/actor.js';
import { compose, type Context } from '../src/compose.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';

const root = path.resolve(import.meta.dirname, '..');

function cli(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/samplebank.js', ...args],
      { cwd: root, env: { ...process.env, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'warn', SAMPLEBANK_ADMIN_EMAIL: '', SAMPLEBANK_ADMIN_PASSWORD: '', DATABASE_URL: '', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function withContext<T>(env: Record<string, string>, fn: (context: Context) => Promise<T>): Promise<T> {
  const context = await compose({ config: loadConfig({ SAMPLEBANK_AUDIT_KEY_FILE: process.env.SAMPLEBANK_AUDIT_KEY_FILE, ...env, DATABASE_URL: '', SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'silent' }), logger: createLogger('silent') });
  try {
    return await fn(context);
  } finally {
    await context.close();
  }
}

describe('samplebank demo --remove', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-demo-cli-'));
  const env = { DATA_DIR: path.join(tmp, 'data') };

  beforeAll(async () => {
    await withContext(env, async ({ services: { identity } }) => {
      await identity.createUser(systemActor, { email: 'admin@demo.samplebank.test', name: 'Demo Admin', password: 'demo-password', roles: ['admin'] });
      await identity.createUser(systemActor, { email: 'curator@demo.samplebank.test', name: 'Demo Curator', password: 'demo-password', roles: ['curator'] });
      await identity.createUser(systemActor, { email: 'li.wei@bank.example.org', name: 'Li Wei', password: 'li-wei-password', roles: ['curator'] });
    });
  }, 600_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('refuses while the demo admin is the only admin, then retires exactly the demo accounts', async () => {
    const refused = await cli(env, ['demo', '--remove']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('No admin would be left: create your own admin account first');
    await withContext(env, async ({ services: { identity } }) => expect(await identity.accountsAtDomain('demo.samplebank.test')).toHaveLength(2));

    await withContext(env, ({ services: { identity } }) => identity.createUser(systemActor, { email: 'ops@bank.example.org', name: 'Ops', password: 'ops-password-1', roles: ['admin'] }));
    const removed = await cli(env, ['demo', '--remove']);
    expect(removed.stderr).toBe('');
    expect(removed.code).toBe(0);
    expect(removed.stdout).toBe('removed 2 demo accounts:\n  admin@demo.samplebank.test\n  curator@demo.samplebank.test\n');

    await withContext(env, async ({ services: { identity } }) => {
      expect(await identity.accountsAtDomain('demo.samplebank.test')).toEqual([]);
      await expect(identity.login('curator@demo.samplebank.test', 'demo-password')).rejects.toMatchObject({ code: 'invalid-credentials' });
      // Everyone else is untouched.
      expect((await identity.login('li.wei@bank.example.org', 'li-wei-password')).user.email).toBe('li.wei@bank.example.org');
    });
    const again = await cli(env, ['demo', '--remove']);
    expect(again.stdout).toBe('no demo accounts to remove\n');
  }, 600_000);
});
