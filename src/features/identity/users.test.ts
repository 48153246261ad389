/** An admin changes users: name, institution, roles, disabling; the last enabled admin always stays. */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roles } from '../../core/roles.js';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { createInstitution, PASSWORD, problem, signIn, unique, type SignedIn } from '../../../test/factories.js';

interface UserView {
  id: string;
  email: string;
  name: string;
  institutionId: string | null;
  roles: string[];
  disabled: boolean;
}

describe(`user administration on ${engine}`, () => {
  let server: TestServer;
  let admin: SignedIn;
  beforeAll(async () => {
    server = await createTestServer();
    admin = await signIn(server.app, server.context, ['admin']);
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);
  const patch = (who: SignedIn, id: string, payload: unknown) => inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: who.headers, payload: payload as Record<string, unknown> });
  const read = async (id: string) => (await inject({ method: 'GET', url: `/api/v1/users/${id}`, headers: admin.headers })).json() as UserView;
  const events = async (id: string) =>
    ((await inject({ method: 'GET', url: `/api/v1/audit/events?entityId=${id}&limit=100`, headers: admin.headers })).json() as { items: Array<{ action: string; actorId: string; data: Record<string, unknown> }> }).items;

  it('renames a user, moves them to another institution and changes their roles; their open session acts with the new roles at once', async () => {
    const user = await signIn(server.app, server.context, ['applicant']);
    // Signed in as an applicant: the sample list is not theirs to read (and their actor is now cached).
    problem(await inject({ method: 'GET', url: '/api/v1/samples', headers: user.headers }), 403, 'forbidden');
    const elsewhere = await createInstitution(server.context);
    const changed = await patch(admin, user.user.id, { name: '  Dr. Wang Li  ', institutionId: elsewhere.id, roles: ['curator', 'auditor', 'curator'] });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual({ id: user.user.id, email: user.user.email, name: 'Dr. Wang Li', institutionId: elsewhere.id, roles: ['curator', 'auditor'], disabled: false });
    expect(await read(user.user.id)).toMatchObject({ name: 'Dr. Wang Li', roles: ['curator', 'auditor'] });
    expect((await inject({ method: 'GET', url: '/api/v1/samples', headers: user.headers })).statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: '/api/v1/me', headers: user.headers })).json()).toMatchObject({ institutionId: elsewhere.id, roles: ['curator', 'auditor'] });

    const [event] = (await events(user.user.id)).filter((e) => e.action === 'user.update');
    expect(event?.actorId).toBe(admin.user.id);
    expect(event?.data.changes).toEqual({
      name: { from: `User ${user.user.email}`, to: 'Dr. Wang Li' },
      institutionId: { from: user.user.institutionId, to: elsewhere.id },
      roles: { from: ['applicant'], to: ['curator', 'auditor'] },
    });

    // Taking roles away works the same way: the next request is refused.
    expect((await patch(admin, user.user.id, { roles: [] })).json()).toMatchObject({ roles: [] });
    problem(await inject({ method: 'GET', url: '/api/v1/samples', headers: user.headers }), 403, 'forbidden');
  });

  it('records nothing when nothing changes', async () => {
    const user = await signIn(server.app, server.context, ['reviewer']);
    const before = (await events(user.user.id)).length;
    const same = await patch(admin, user.user.id, { roles: ['reviewer'], name: `User ${user.user.email}`, disabled: false, institutionId: user.user.institutionId });
    expect(same.statusCode).toBe(200);
    expect((await events(user.user.id)).length).toBe(before);
  });

  it('disables a user: every session and token stops at once and they cannot sign in; enabling lets them sign in again', async () => {
    const user = await signIn(server.app, server.context, ['chair']);
    const second = (await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: user.user.email, password: PASSWORD } })).json() as { token: string };
    const apiToken = (await inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: user.headers, payload: { name: 'script' } })).json() as { token: string };
    for (const token of [user.token, second.token, apiToken.token]) expect((await inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);

    const disabled = await patch(admin, user.user.id, { disabled: true });
    expect(disabled.json()).toMatchObject({ id: user.user.id, disabled: true, roles: ['chair'] });
    for (const token of [user.token, second.token, apiToken.token]) problem(await inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } }), 401, 'unauthenticated');
    problem(await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: user.user.email, password: PASSWORD } }), 401, 'invalid-credentials');
    const list = (await inject({ method: 'GET', url: `/api/v1/users?q=${encodeURIComponent(user.user.email)}`, headers: admin.headers })).json() as { items: UserView[] };
    expect(list.items).toEqual([expect.objectContaining({ id: user.user.id, disabled: true })]);
    const [event] = (await events(user.user.id)).filter((e) => e.action === 'user.disable');
    expect(event?.data).toMatchObject({ changes: { disabled: { from: false, to: true } }, tokensRevoked: 3 });

    expect((await patch(admin, user.user.id, { disabled: false })).json()).toMatchObject({ disabled: false });
    expect((await events(user.user.id)).map((e) => e.action)).toContain('user.enable');
    // The old tokens stay revoked; signing in again gives a new one.
    problem(await inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${apiToken.token}` } }), 401, 'unauthenticated');
    expect((await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: user.user.email, password: PASSWORD } })).statusCode).toBe(200);
  });

  it('keeps one enabled admin: the last one cannot drop the role or be disabled, and nobody disables themselves', async () => {
    const server2 = await createTestServer();
    try {
      const only = await signIn(server2.app, server2.context, ['admin']);
      const call = (who: SignedIn, id: string, payload: unknown) => server2.app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: who.headers, payload: payload as Record<string, unknown> });
      const demote = problem(await call(only, only.user.id, { roles: ['curator'] }), 409, 'conflict');
      expect(demote.errors[0]?.field).toBe('roles');
      const self = problem(await call(only, only.user.id, { disabled: true }), 409, 'conflict');
      expect(self.errors[0]?.field).toBe('disabled');
      expect((await server2.app.inject({ method: 'GET', url: '/api/v1/me', headers: only.headers })).json()).toMatchObject({ roles: ['admin'], disabled: false });

      // With a second admin, one may step down; then the other is the last.
      const other = await signIn(server2.app, server2.context, ['admin']);
      expect((await call(only, only.user.id, { roles: ['admin', 'auditor'] })).statusCode).toBe(200);
      expect((await call(other, only.user.id, { roles: ['auditor'] })).json()).toMatchObject({ roles: ['auditor'] });
      problem(await call(other, other.user.id, { roles: [] }), 409, 'conflict');

      // Two admins taking each other's role at the same moment: one wins, the other is refused, one admin is left.
      const third = await signIn(server2.app, server2.context, ['admin']);
      const [a, b] = await Promise.all([call(other, third.user.id, { roles: ['reviewer'] }), call(third, other.user.id, { disabled: true })]);
      expect([a.statusCode, b.statusCode].filter((status) => status === 200)).toHaveLength(1);
      for (const loser of [a, b].filter((r) => r.statusCode !== 200)) expect([403, 409]).toContain(loser.statusCode);
      const users = (await server2.app.inject({ method: 'GET', url: '/api/v1/users?limit=500', headers: (a.statusCode === 200 ? other : third).headers })).json() as { items: UserView[] };
      expect(users.items.filter((u) => u.roles.includes('admin') && !u.disabled)).toHaveLength(1);
    } finally {
      await server2.close();
    }
  });

  it('finds users by part of the e-mail address or the name, any case; LIKE wildcards match only themselves', async () => {
    const tag = unique('findme');
    const a = await signIn(server.app, server.context, ['applicant']);
    await patch(admin, a.user.id, { name: `Zhang ${tag.toUpperCase()} 100%` });
    const b = await signIn(server.app, server.context, ['applicant']);
    const byName = (await inject({ method: 'GET', url: `/api/v1/users?q=${tag}`, headers: admin.headers })).json() as { items: UserView[] };
    expect(byName.items.map((u) => u.id)).toEqual([a.user.id]);
    const byEmail = (await inject({ method: 'GET', url: `/api/v1/users?q=${encodeURIComponent(b.user.email.slice(0, 12).toUpperCase())}`, headers: admin.headers })).json() as { items: UserView[] };
    expect(byEmail.items.map((u) => u.id)).toEqual([b.user.id]);
    const percent = (await inject({ method: 'GET', url: `/api/v1/users?q=${encodeURIComponent('0%')}`, headers: admin.headers })).json() as { items: UserView[] };
    expect(percent.items.map((u) => u.id)).toEqual([a.user.id]);
    const underscore = (await inject({ method: 'GET', url: `/api/v1/users?q=_`, headers: admin.headers })).json() as { items: UserView[] };
    expect(underscore.items).toEqual([]);
  });

  it('lists users by name, any case, page after page with nothing skipped or repeated, whatever the names hold', async () => {
    const tag = unique('pg');
    const names = [`${tag} beta`, `${tag} Alpha`, `${tag} gamma\nsecond line`, `${tag} 张三`, `${tag} alpha`];
    for (const name of names) {
      const who = await signIn(server.app, server.context, ['applicant']);
      await patch(admin, who.user.id, { name });
    }
    const whole = ((await inject({ method: 'GET', url: `/api/v1/users?q=${tag}&limit=500`, headers: admin.headers })).json() as { items: UserView[] }).items;
    expect(whole.map((u) => u.name.slice(tag.length + 1).toLowerCase())).toEqual(['alpha', 'alpha', 'beta', 'gamma\nsecond line', '张三']);
    const paged: UserView[] = [];
    let cursor: string | null = null;
    do {
      const page = (await inject({ method: 'GET', url: `/api/v1/users?q=${tag}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, headers: admin.headers })).json() as { items: UserView[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged.map((u) => u.id)).toEqual(whole.map((u) => u.id));
    for (const bad of ['nope', Buffer.from('["x","not-a-uuid"]').toString('base64url'), Buffer.from('{}').toString('base64url')]) {
      expect(problem(await inject({ method: 'GET', url: `/api/v1/users?cursor=${bad}`, headers: admin.headers }), 400, 'validation-failed').errors[0]?.field).toBe('cursor');
    }
  });

  it('refuses bad changes with the field named, and changes nothing', async () => {
    const user = await signIn(server.app, server.context, ['reviewer']);
    const cases: Array<[unknown, string]> = [
      [{}, 'body'],
      [{ roles: ['overlord'] }, 'roles.0'],
      [{ roles: 'admin' }, 'roles'],
      [{ disabled: 'yes' }, 'disabled'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ institutionId: 'not-a-uuid' }, 'institutionId'],
      [{ institutionId: '00000000-0000-4000-8000-000000000000' }, 'institutionId'],
      [{ email: 'new@test.samplebank' }, 'email'],
    ];
    for (const [payload, field] of cases) {
      const answer = problem(await patch(admin, user.user.id, payload), 400);
      expect(answer.errors.map((e) => e.field), JSON.stringify(payload)).toContain(field);
    }
    problem(await inject({ method: 'PATCH', url: `/api/v1/users/${user.user.id}`, headers: { ...admin.headers, 'content-type': 'application/json' }, payload: '{"roles": [' }), 400);
    problem(await patch(admin, '00000000-0000-4000-8000-000000000000', { roles: [] }), 404, 'not-found');
    problem(await patch(admin, 'nope', { roles: [] }), 400);
    expect(await read(user.user.id)).toMatchObject({ roles: ['reviewer'], disabled: false, name: `User ${user.user.email}` });
  });

  it("resets a lost password: the old password and every session stop working, the new one signs in; one's own goes through /me/password", async () => {
    const user = await signIn(server.app, server.context, ['applicant']);
    const reset = await inject({ method: 'POST', url: `/api/v1/users/${user.user.id}/password`, headers: admin.headers, payload: { password: 'a-fresh-password-9' } });
    expect(reset.statusCode).toBe(204);
    problem(await inject({ method: 'GET', url: '/api/v1/me', headers: user.headers }), 401, 'unauthenticated');
    problem(await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: user.user.email, password: PASSWORD } }), 401, 'invalid-credentials');
    expect((await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: user.user.email, password: 'a-fresh-password-9' } })).statusCode).toBe(200);
    expect((await events(user.user.id)).map((e) => e.action)).toContain('user.password-reset');

    expect(problem(await inject({ method: 'POST', url: `/api/v1/users/${user.user.id}/password`, headers: admin.headers, payload: { password: 'short' } }), 400, 'validation-failed').errors[0]?.field).toBe('password');
    expect(problem(await inject({ method: 'POST', url: `/api/v1/users/${admin.user.id}/password`, headers: admin.headers, payload: { password: 'my-own-new-password' } }), 409, 'conflict').errors[0]?.field).toBe('password');
    problem(await inject({ method: 'POST', url: '/api/v1/users/00000000-0000-4000-8000-000000000000/password', headers: admin.headers, payload: { password: 'a-fresh-password-9' } }), 404, 'not-found');
    problem(await inject({ method: 'POST', url: `/api/v1/users/${admin.user.id}/password`, headers: user.headers, payload: { password: 'taken-over-admin' } }), 401);
    const other = await signIn(server.app, server.context, ['curator']);
    problem(await inject({ method: 'POST', url: `/api/v1/users/${admin.user.id}/password`, headers: other.headers, payload: { password: 'taken-over-admin' } }), 403, 'forbidden');
    expect((await inject({ method: 'GET', url: '/api/v1/me', headers: admin.headers })).statusCode).toBe(200);
  });

  it('lets only admins change users', async () => {
    const target = await signIn(server.app, server.context, ['applicant']);
    for (const role of roles.filter((r) => r !== 'admin')) {
      const who = await signIn(server.app, server.context, [role]);
      problem(await patch(who, target.user.id, { roles: ['admin'] }), 403, 'forbidden');
      problem(await patch(who, who.user.id, { roles: ['admin'] }), 403, 'forbidden');
      problem(await inject({ method: 'PATCH', url: `/api/v1/users/${target.user.id}`, payload: { disabled: true } }), 401, 'unauthenticated');
    }
    expect(await read(target.user.id)).toMatchObject({ roles: ['applicant'], disabled: false });
  });
});
