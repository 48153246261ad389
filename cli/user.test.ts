/**
 * `samplebank user list | set | password`, run as an operator runs them
 * (node bin/samplebank.js …) against a temp DATA_DIR: the answers printed,
 * the refusals, and what the database holds afterwards.
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

function cli(env: Record<string, string>, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/samplebank.js', ...args],
      { cwd: root, env: { ...process.env, SAMPLEBANK_DEMO: '0', LOG_LEVEL: 'warn', SAMPLEBANK_ADMIN_EMAIL: '', SAMPLEBANK_ADMIN_PASSWORD: '', DATABASE_URL: '', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input ?? '');
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

describe('samplebank user list, set and password', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-user-cli-'));
  const env = { DATA_DIR: path.join(tmp, 'data') };
  let chairToken: string;

  beforeAll(async () => {
    await withContext(env, async (context) => {
      const { identity } = context.services;
      const igg = await identity.createInstitution(systemActor, { code: 'IGG', name: 'Institute of Geology' });
      await identity.createInstitution(systemActor, { code: 'PMO', name: 'Purple Mountain Observatory' });
      await identity.createUser(systemActor, { email: 'admin@bank.test', name: 'Only Admin', password: 'admin-password-1', roles: ['admin'] });
      await identity.createUser(systemActor, { email: 'li.wei@igg.test', name: 'Li Wei', password: 'first-password-1', institutionId: igg.id, roles: ['chair'] });
      chairToken = (await identity.login('li.wei@igg.test', 'first-password-1')).token;
    });
  }, 600_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('lists users, all or found by part of the e-mail or name', async () => {
    const all = await cli(env, ['user', 'list']);
    expect(all.stderr).toBe('');
    expect(all.stdout.trim().split('\n')).toHaveLength(2);
    const found = await cli(env, ['user', 'list', '--search', 'WEI', '--json']);
    const lines = found.stdout.trim().split('\n').map((l) => JSON.parse(l) as { email: string; roles: string[]; disabled: boolean });
    expect(lines).toEqual([expect.objectContaining({ email: 'li.wei@igg.test', roles: ['chair'], disabled: false })]);
  }, 600_000);

  it('changes roles and institution, disables (revoking the session) and enables again', async () => {
    const changed = await cli(env, ['user', 'set', 'LI.WEI@igg.test', '--role', 'curator,auditor', '--institution', 'pmo', '--name', 'Li Wei (PMO)']);
    expect(changed.stderr).toBe('');
    expect(changed.stdout).toMatch(/^updated li\.wei@igg\.test \([0-9a-f-]{36}\): Li Wei \(PMO\); roles curator, auditor; institution PMO; enabled\n$/);
    const disabled = await cli(env, ['user', 'set', 'li.wei@igg.test', '--disable']);
    expect(disabled.stdout).toContain('; disabled');
    await withContext(env, async (context) => {
      expect(await context.services.identity.authenticate(chairToken)).toBeNull();
      await expect(context.services.identity.login('li.wei@igg.test', 'first-password-1')).rejects.toMatchObject({ code: 'invalid-credentials' });
      const events = await context.handle.db.selectFrom('audit_events').select(['action', 'actor_id']).where('entity_type', '=', 'user').where('action', 'in', ['user.update', 'user.disable']).execute();
      expect(events.map((e) => e.action).sort()).toEqual(['user.disable', 'user.update']);
      expect(events.every((e) => e.actor_id === null)).toBe(true);
    });
    const enabled = await cli(env, ['user', 'set', 'li.wei@igg.test', '--enable', '--clear-roles']);
    expect(enabled.stdout).toContain('roles none; institution PMO; enabled');
  }, 600_000);

  it('sets a new password from stdin; the old one and the old sessions stop working', async () => {
    const token = await withContext(env, async (context) => (await context.services.identity.login('li.wei@igg.test', 'first-password-1')).token);
    const reset = await cli(env, ['user', 'password', 'li.wei@igg.test', '--password-stdin'], 'second-password-2\n');
    expect(reset.stderr).toBe('');
    expect(reset.stdout).toBe('new password set for li.wei@igg.test; their sessions and API tokens are revoked\n');
    await withContext(env, async (context) => {
      const { identity } = context.services;
      expect(await identity.authenticate(token)).toBeNull();
      await expect(identity.login('li.wei@igg.test', 'first-password-1')).rejects.toMatchObject({ code: 'invalid-credentials' });
      expect((await identity.login('li.wei@igg.test', 'second-password-2')).user.email).toBe('li.wei@igg.test');
    });
  }, 600_000);

  it('registers an institution that users can then be moved to, and lists the institutions', async () => {
    const added = await cli(env, ['institution', 'add', '--code', 'NAOC', '--name', 'National Astronomical Observatories', '--parent-body', 'Chinese Academy of Sciences']);
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(/^registered institution NAOC \([0-9a-f-]{36}\): National Astronomical Observatories\n$/);
    const listed = await cli(env, ['institution', 'list']);
    expect(listed.stdout).toContain('NAOC\tNational Astronomical Observatories\tChinese Academy of Sciences\n');
    expect(listed.stdout).toContain('IGG\tInstitute of Geology\n');
    const duplicate = await cli(env, ['institution', 'add', '--code', 'NAOC', '--name', 'Again']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('--code: already exists');
    const badCode = await cli(env, ['institution', 'add', '--code', 'no spaces', '--name', 'X']);
    expect(badCode.code).toBe(1);
    expect(badCode.stderr).toContain('--code: letters, digits');
    expect((await cli(env, ['user', 'set', 'li.wei@igg.test', '--institution', 'naoc'])).stdout).toContain('institution NAOC');
  }, 600_000);

  it('refuses what cannot be done, with the option named, and changes nothing', async () => {
    const refusals: Array<[string[], string, string?]> = [
      [['user', 'set', 'admin@bank.test', '--clear-roles'], '--roles: would leave no enabled admin'],
      [['user', 'set', 'admin@bank.test', '--disable'], '--disabled: would leave no enabled admin'],
      [['user', 'set', 'nobody@bank.test', '--disable'], 'no user with e-mail nobody@bank.test'],
      [['user', 'set', 'li.wei@igg.test'], 'nothing to change'],
      [['user', 'set', 'li.wei@igg.test', '--role', 'king'], '--role: unknown role king'],
      [['user', 'set', 'li.wei@igg.test', '--disable', '--enable'], '--disable and --enable'],
      [['user', 'set', 'li.wei@igg.test', '--institution', 'NOPE'], '--institution: no institution with code NOPE'],
      [['user', 'password', 'li.wei@igg.test', '--password-stdin'], '--password: at least 8 characters', 'short\n'],
    ];
    for (const [args, message, input] of refusals) {
      const answer = await cli(env, args, input);
      expect(answer.code, args.join(' ')).toBe(1);
      expect(answer.stderr, args.join(' ')).toContain(message);
    }
    await withContext(env, async (context) => {
      const users = (await context.services.identity.listUsers(systemActor, { limit: 10 })).items;
      expect(users.find((u) => u.email === 'admin@bank.test')).toMatchObject({ roles: ['admin'], disabled: false });
      expect(users.find((u) => u.email === 'li.wei@igg.test')).toMatchObject({ roles: [], disabled: false });
      expect((await context.services.identity.login('li.wei@igg.test', 'second-password-2')).token).toBeTruthy();
    });
  }, 600_000);
});
