/**
 * Tampering the way a database superuser could (triggers bypassed with
 * session_replication_role = replica), one fresh database per case, and what
 * verification says about it.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { systemActor, type Actor } from '../../core/actor.js';
import { eventHash } from '../../core/audit-chain.js';
import type { DB } from '../../platform/db/database.js';
import { inTransaction, type Tx } from '../../platform/db/tx.js';
import { createTestContext, engine, type TestContext } from '../../../test/harness.js';
import { unique } from '../../../test/factories.js';
import { recordAudit } from './audit.service.js';
import { sealAudit } from './audit.seal.js';
import type { AuditEventRow } from './audit.repository.js';
import { toStored, verifyAudit } from './audit.verify.js';

const actor: Actor = { ...systemActor, userId: crypto.randomUUID() };

async function write(db: DB, stream: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= count; i++) {
    ids.push(await inTransaction(db, (tx) => recordAudit(tx, actor, { stream, action: 'sample.adjust', entityType: 'sample', entityId: stream, data: { step: i, note: `step ${i}` } })));
  }
  return ids;
}

/** What a superuser can do: switch the append-only triggers off for one transaction. */
async function asSuperuser(db: DB, fn: (tx: Tx) => Promise<unknown>): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await sql`set local session_replication_role = replica`.execute(tx);
    await fn(tx);
  });
}

async function rows(db: DB, stream: string): Promise<AuditEventRow[]> {
  return (await db.selectFrom('audit_events').selectAll().where('stream', '=', stream).orderBy('seq').execute()) as AuditEventRow[];
}

/** Recomputes a stream's hashes from seq `from` on, as a forger who read audit-chain.ts would. */
async function rehash(tx: Tx, stream: string, from: number): Promise<void> {
  const all = (await tx.selectFrom('audit_events').selectAll().where('stream', '=', stream).orderBy('seq').execute()) as AuditEventRow[];
  let prev = all[from - 2]?.hash ?? '0'.repeat(64);
  for (const row of all.slice(from - 1)) {
    const hash = eventHash(prev, toStored(row));
    await tx.updateTable('audit_events').set({ prev_hash: prev, hash }).where('id', '=', row.id).execute();
    prev = hash;
  }
  await tx.updateTable('audit_streams').set({ seq: String(all.length), head_hash: prev }).where('stream', '=', stream).execute();
}

describe(`audit tampering on ${engine}`, () => {
  let context: TestContext | undefined;
  afterEach(async () => {
    await context?.dispose();
    context = undefined;
  });

  /** Two streams of five events (the later-named one written first), sealed, plus the verifier's first answer. */
  async function setUp() {
    context = await createTestContext();
    const db = context.handle.db;
    const early = unique('z-stream-');
    const late = unique('a-stream-');
    const earlyIds = await write(db, early, 5);
    const lateIds = await write(db, late, 5);
    await sealAudit(db);
    const clean = await verifyAudit(db);
    expect(clean).toMatchObject({ ok: true, events: 5 + 5 + (await countOthers(db, early, late)) });
    return { db, early, late, earlyIds, lateIds };
  }

  async function countOthers(db: DB, ...streams: string[]): Promise<number> {
    const row = await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('n')).where('stream', 'not in', streams).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it('names an event whose data field was edited', async () => {
    const { db, early, earlyIds } = await setUp();
    await asSuperuser(db, (tx) => tx.updateTable('audit_events').set({ data: JSON.stringify({ step: 3, note: 'nothing happened' }) }).where('id', '=', earlyIds[2]!).execute());
    const result = await verifyAudit(db);
    expect(result.ok).toBe(false);
    expect(result.firstBad).toMatchObject({ eventId: earlyIds[2], stream: early, seq: 3 });
    expect(result.firstBad?.reason).toMatch(/edited/);
  });

  it('names an event whose actor was edited', async () => {
    const { db, late, lateIds } = await setUp();
    await asSuperuser(db, (tx) => tx.updateTable('audit_events').set({ actor_id: crypto.randomUUID() }).where('id', '=', lateIds[1]!).execute());
    expect((await verifyAudit(db)).firstBad).toMatchObject({ eventId: lateIds[1], stream: late, seq: 2 });
  });

  it('names the earliest of two tampered events across streams, not the first stream by name', async () => {
    const { db, early, late, earlyIds, lateIds } = await setUp();
    await asSuperuser(db, async (tx) => {
      await tx.updateTable('audit_events').set({ action: 'sample.create' }).where('id', '=', lateIds[0]!).execute();
      await tx.updateTable('audit_events').set({ action: 'sample.create' }).where('id', '=', earlyIds[3]!).execute();
    });
    const result = await verifyAudit(db);
    expect(late < early).toBe(true);
    expect(result.firstBad).toMatchObject({ eventId: earlyIds[3], stream: early, seq: 4 });
  });

  it('detects a deleted middle event and names its place', async () => {
    const { db, early, earlyIds } = await setUp();
    await asSuperuser(db, (tx) => tx.deleteFrom('audit_events').where('id', '=', earlyIds[2]!).execute());
    const result = await verifyAudit(db);
    expect(result).toMatchObject({ ok: false, events: expect.any(Number) });
    expect(result.firstBad).toMatchObject({ eventId: null, stream: early, seq: 3 });
    expect(result.firstBad?.reason).toMatch(/missing/);
  });

  it('detects the deletion of a sealed last event even when the stream head was wound back too', async () => {
    const { db, late, lateIds } = await setUp();
    const [fourth] = (await rows(db, late)).slice(3, 4);
    await asSuperuser(db, async (tx) => {
      await tx.deleteFrom('audit_events').where('id', '=', lateIds[4]!).execute();
      await tx.updateTable('audit_streams').set({ seq: '4', head_hash: fourth!.hash }).where('stream', '=', late).execute();
    });
    const result = await verifyAudit(db);
    expect(result.firstBad).toMatchObject({ eventId: null, stream: late, seq: 5 });
    expect(result.firstBad?.reason).toMatch(/seal 1 records this event but it is missing/);
  });

  it('detects a whole sealed stream deleted with its head', async () => {
    const { db, late } = await setUp();
    await asSuperuser(db, async (tx) => {
      await tx.deleteFrom('audit_events').where('stream', '=', late).execute();
      await tx.deleteFrom('audit_streams').where('stream', '=', late).execute();
    });
    const result = await verifyAudit(db);
    expect(result.ok).toBe(false);
    expect(result.firstBad).toMatchObject({ eventId: null, stream: late, seq: 5 });
  });

  it('names the first of two events whose seq were swapped', async () => {
    const { db, early, earlyIds } = await setUp();
    await asSuperuser(db, async (tx) => {
      await tx.updateTable('audit_events').set({ seq: '1000' }).where('id', '=', earlyIds[1]!).execute();
      await tx.updateTable('audit_events').set({ seq: '2' }).where('id', '=', earlyIds[2]!).execute();
      await tx.updateTable('audit_events').set({ seq: '3' }).where('id', '=', earlyIds[1]!).execute();
    });
    const result = await verifyAudit(db);
    expect(result.firstBad).toMatchObject({ eventId: earlyIds[2], stream: early, seq: 2 });
    expect(result.firstBad?.reason).toMatch(/reordered/);
  });

  it('names a forged event appended with a made-up hash', async () => {
    const { db, late } = await setUp();
    const head = (await rows(db, late)).at(-1)!;
    const forged = crypto.randomUUID();
    const hash = crypto.randomBytes(32).toString('hex');
    await asSuperuser(db, async (tx) => {
      await tx
        .insertInto('audit_events')
        .values({ id: forged, stream: late, seq: '6', occurred_at: new Date(), actor_id: actor.userId, action: 'sample.destroy', entity_type: 'sample', entity_id: late, data: '{}', request_id: null, prev_hash: head.hash, hash })
        .execute();
      await tx.updateTable('audit_streams').set({ seq: '6', head_hash: hash }).where('stream', '=', late).execute();
    });
    expect((await verifyAudit(db)).firstBad).toMatchObject({ eventId: forged, stream: late, seq: 6 });
  });

  it('detects a forged event slipped into sealed history even when every later hash was recomputed', async () => {
    const { db, early, earlyIds } = await setUp();
    await asSuperuser(db, async (tx) => {
      for (let seq = 5; seq >= 3; seq--) await tx.updateTable('audit_events').set({ seq: String(seq + 1) }).where('stream', '=', early).where('seq', '=', String(seq)).execute();
      const second = (await tx.selectFrom('audit_events').select('occurred_at').where('id', '=', earlyIds[1]!).executeTakeFirstOrThrow()).occurred_at;
      await tx
        .insertInto('audit_events')
        .values({ id: crypto.randomUUID(), stream: early, seq: '3', occurred_at: second, actor_id: actor.userId, action: 'sample.consume', entity_type: 'sample', entity_id: early, data: '{}', request_id: null, prev_hash: '', hash: '' })
        .execute();
      await rehash(tx, early, 3);
    });
    const result = await verifyAudit(db);
    expect(result.firstBad).toMatchObject({ stream: early, seq: 5 });
    expect(result.firstBad?.reason).toMatch(/differs from the one seal 1 recorded/);
  });

  it('detects an edited seal', async () => {
    const { db } = await setUp();
    await write(db, unique('s-'), 2);
    await sealAudit(db);
    await asSuperuser(db, (tx) => tx.updateTable('audit_seals').set({ sealed_at: new Date(0) }).where('seq', '=', '1').execute());
    expect((await verifyAudit(db)).firstBad).toMatchObject({ eventId: null, stream: '#seals', seq: 1 });
  });
});
