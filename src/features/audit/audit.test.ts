import crypto from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor, type Actor } from '../../core/actor.js';
import { inTransaction, sqlState } from '../../platform/db/tx.js';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { problem, signIn, unique, type SignedIn } from '../../../test/factories.js';
import { recordAudit } from './audit.service.js';
import { verifyAudit } from './audit.verify.js';

interface EventPage {
  items: Array<{ id: string; stream: string; seq: number; actorId: string | null; action: string; entityId: string | null; occurredAt: string; data: Record<string, unknown> }>;
  nextCursor: string | null;
}

describe(`audit trail on ${engine}`, () => {
  let server: TestServer;
  let auditor: SignedIn;
  let admin: SignedIn;
  const actor: Actor = { ...systemActor, userId: crypto.randomUUID() };
  beforeAll(async () => {
    server = await createTestServer();
    auditor = await signIn(server.app, server.context, ['auditor']);
    admin = await signIn(server.app, server.context, ['admin']);
  });
  afterAll(async () => server?.close());

  const db = () => server.context.handle.db;
  const record = (stream: string, action = 'sample.adjust', data: Record<string, unknown> = {}) =>
    inTransaction(db(), (tx) => recordAudit(tx, actor, { stream, action, entityType: 'sample', entityId: stream, data }));

  it('verifies a clean chain after many writes across streams, sealed in between, walking in small pages', async () => {
    const streams = Array.from({ length: 12 }, () => unique('sample:'));
    for (let round = 0; round < 10; round++) {
      for (const stream of streams) await record(stream, 'sample.adjust', { round, at: new Date(), nested: { list: [1, 'two', null], undef: undefined } });
      if (round % 3 === 0) await server.context.services.audit.seal({ headsPerSeal: 5 });
    }
    const total = Number((await db().selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    const result = await verifyAudit(db(), { eventsPage: 7, sealsPage: 2 });
    expect(result).toMatchObject({ ok: true, events: total });
    expect(result.firstBad).toBeUndefined();
    expect(result.seals).toBeGreaterThanOrEqual(4 * 3);

    const response = await server.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: auditor.headers });
    expect(response.statusCode).toBe(200);
    const body = response.json() as { ok: boolean; events: number; head: string };
    expect(body).toMatchObject({ ok: true });
    expect(body.events).toBeGreaterThanOrEqual(total);
    expect(body.head).toMatch(/^[0-9a-f]{64}$/);
    // Verifying sealed everything pending: the head is the newest seal.
    const last = await db().selectFrom('audit_seals').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(body.head).toBe(last.hash);
  });

  it('seals only the streams that moved, and nothing when nothing moved', async () => {
    const stream = unique('sample:');
    await server.context.services.audit.seal();
    expect(await server.context.services.audit.seal()).toBeNull();
    await record(stream);
    const seal = await server.context.services.audit.seal();
    expect(seal?.streams).toBe(1);
    const row = await db().selectFrom('audit_seals').select('heads').where('seq', '=', seal!.seq.toString()).executeTakeFirstOrThrow();
    expect(Object.keys(row.heads)).toEqual([stream]);
    expect(row.heads[stream]?.seq).toBe('1');
  });

  it('seals on a timer while the server runs, and once more when it stops', async () => {
    const lastSeal = async () => Number((await db().selectFrom('audit_seals').select((eb) => eb.fn.max('seq').as('top')).executeTakeFirstOrThrow()).top ?? 0);
    const stream = unique('sample:');
    const before = await lastSeal();
    // The sealer seals once at start, then every 20 ms.
    const sealer = server.context.services.audit.startSealing(20);
    await record(stream);
    let sealed = false;
    for (let i = 0; i < 100 && !sealed; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      sealed = (await db().selectFrom('audit_sealed_streams').select('seq').where('stream', '=', stream).executeTakeFirst())?.seq === '1';
    }
    expect(sealed).toBe(true);
    expect(await lastSeal()).toBeGreaterThan(before);
    await record(stream);
    await sealer.stop();
    expect((await db().selectFrom('audit_sealed_streams').select('seq').where('stream', '=', stream).executeTakeFirstOrThrow()).seq).toBe('2');
    const after = await lastSeal();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await lastSeal()).toBe(after);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of audit rows on the app connection', async () => {
    await record(unique('sample:'));
    await server.context.services.audit.seal();
    const attempts = [
      sql`update audit_events set action = 'x'`,
      sql`delete from audit_events`,
      sql`truncate audit_events`,
      sql`update audit_seals set hash = 'x'`,
      sql`delete from audit_seals`,
    ];
    for (const statement of attempts) {
      const error = await statement.execute(db()).then(() => null, (e: unknown) => e);
      expect(sqlState(error)).toBe('42501');
      expect(String((error as Error).message)).toMatch(/append-only/);
    }
    expect((await verifyAudit(db())).ok).toBe(true);
  });

  it('lets auditors and admins verify; others get 403 and anonymous callers 401', async () => {
    for (const who of [auditor, admin]) expect((await server.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: who.headers })).statusCode).toBe(200);
    for (const role of ['curator', 'reviewer', 'chair', 'applicant'] as const) {
      const other = await signIn(server.app, server.context, [role]);
      problem(await server.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: other.headers }), 403, 'forbidden');
      problem(await server.app.inject({ method: 'GET', url: '/api/v1/audit/events', headers: other.headers }), 403, 'forbidden');
    }
    problem(await server.app.inject({ method: 'GET', url: '/api/v1/audit/verify' }), 401, 'unauthenticated');
    problem(await server.app.inject({ method: 'GET', url: '/api/v1/audit/events' }), 401, 'unauthenticated');
  });

  it('lists events with filters and cursor pagination', async () => {
    const stream = unique('sample:');
    const before = new Date();
    for (let i = 1; i <= 5; i++) await record(stream, i % 2 ? 'sample.split' : 'sample.adjust', { i });
    const seen: EventPage['items'] = [];
    let cursor: string | null = null;
    do {
      const query: string = `stream=${encodeURIComponent(stream)}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await server.app.inject({ method: 'GET', url: `/api/v1/audit/events?${query}`, headers: auditor.headers });
      expect(response.statusCode).toBe(200);
      const page = response.json() as EventPage;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(seen.every((e) => e.stream === stream && e.actorId === actor.userId)).toBe(true);
    expect(seen[2]?.data).toEqual({ i: 3 });

    const filtered = async (query: string) =>
      ((await server.app.inject({ method: 'GET', url: `/api/v1/audit/events?${query}`, headers: admin.headers })).json() as EventPage).items;
    expect((await filtered(`entityType=sample&entityId=${encodeURIComponent(stream)}&action=sample.split`)).map((e) => e.seq)).toEqual([1, 3, 5]);
    expect((await filtered(`actorId=${actor.userId}&stream=${encodeURIComponent(stream)}`)).length).toBe(5);
    expect(await filtered(`actorId=${crypto.randomUUID()}`)).toEqual([]);
    expect((await filtered(`from=${before.toISOString()}&stream=${encodeURIComponent(stream)}`)).length).toBe(5);
    expect(await filtered(`to=${before.toISOString()}&stream=${encodeURIComponent(stream)}`)).toEqual([]);
    const logins = await filtered(`action=user.login&actorId=${auditor.user.id}`);
    expect(logins.length).toBeGreaterThanOrEqual(1);
  });

  it('answers bad filters with a 400 naming the field', async () => {
    const bad = async (query: string, field: string) => {
      const response = await server.app.inject({ method: 'GET', url: `/api/v1/audit/events?${query}`, headers: auditor.headers });
      expect(problem(response, 400, 'validation-failed').errors.map((e) => e.field)).toContain(field);
    };
    await bad('actorId=nope', 'actorId');
    await bad('from=yesterday', 'from');
    await bad('limit=0', 'limit');
    await bad('cursor=bm90LWEtY3Vyc29y', 'cursor');
    await bad('from=2026-11-23T10:00:00Z&to=2026-11-23T09:00:00Z', 'to');
    await bad('colour=red', 'colour');
  });
});
