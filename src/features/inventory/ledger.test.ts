import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../core/actor.js';
import { DomainError } from '../../core/errors.js';
import { checkLineage } from '../../core/ledger.js';
import { inTransaction } from '../../platform/db/tx.js';
import { createTestContext, type TestContext } from '../../../test/harness.js';
import { unique } from '../../../test/factories.js';
import { verifyAudit } from '../audit/audit.verify.js';
import { ledger } from './ledger.js';
import { samplesRepository } from './samples.repository.js';

let context: TestContext;
const who = { actor: systemActor };

beforeAll(async () => {
  context = await createTestContext();
});
afterAll(async () => {
  await context.dispose();
});

async function collection(kinds: string[] = []): Promise<{ id: string; code: string }> {
  const code = unique('C').toUpperCase();
  const id = crypto.randomUUID();
  await context.handle.db.insertInto('collections').values({ id, code, name: code, unit: 'g', scale: 4, human_consent: false, kinds }).execute();
  return { id, code };
}

async function conservation(rootId: string) {
  const db = context.handle.db;
  const samples = await samplesRepository.lineageSamples(db, rootId);
  const entries = (await samplesRepository.lineageMovements(db, rootId)).map((m) => ({ sampleId: m.sample_id, kind: m.kind, delta: m.delta, reservedDelta: m.reserved_delta }));
  return checkLineage(rootId, samples.map((s) => ({ id: s.id, quantity: s.quantity, reserved: s.reserved, activeReservations: s.active_reservations })), entries);
}

const run = <T>(fn: Parameters<typeof inTransaction<T>>[1]) => inTransaction(context.handle.db, fn);

async function expectCode(promise: Promise<unknown>, code: string): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

describe('ledger', () => {
  it('creates, splits with loss, reserves, releases, consumes, adjusts, destroys and conserves every unit', async () => {
    const c = await collection(['Fines']);
    const root = await run((tx) => ledger.create(tx, who, { collectionId: c.id, kind: 'fines', quantity: 100_000n }));
    expect(root.identifier).toBe(`${c.code}0001`);
    expect(root.kind).toBe('Fines');
    const { parent, children } = await run((tx) => ledger.split(tx, who, root.id, { parts: [{ quantity: 10_000n }, { quantity: 5_000n }], loss: 3n, reason: 'subsampling' }));
    expect(parent.quantity).toBe(100_000n - 15_003n);
    expect(children.map((x) => x.identifier)).toEqual([`${c.code}0001,0001`, `${c.code}0001,0002`]);
    expect(children.every((x) => x.root_id === root.id && x.parent_id === root.id && x.kind === 'Fines')).toBe(true);
    // A grandchild keeps counting under the root.
    const grand = await run((tx) => ledger.split(tx, who, children[0]!.id, { parts: [{ quantity: 1_000n }], reason: 'again' }));
    expect(grand.children[0]!.identifier).toBe(`${c.code}0001,0003`);

    const reservation = await run((tx) => ledger.reserve(tx, who, children[1]!.id, { quantity: 4_000n }));
    let child = (await ledger.find(context.handle.db, children[1]!.id))!;
    expect([child.reserved, child.state]).toEqual([4_000n, 'reserved']);
    const error = await expectCode(run((tx) => ledger.reserve(tx, who, children[1]!.id, { quantity: 1_001n })), 'insufficient-quantity');
    expect(error.message).toContain('0.1000 g available');
    await expectCode(run((tx) => ledger.destroy(tx, who, children[1]!.id, 'broken')), 'invalid-state');
    await expectCode(run((tx) => ledger.split(tx, who, children[1]!.id, { parts: [{ quantity: 1_001n }], reason: 'x' })), 'insufficient-quantity');
    await run((tx) => ledger.release(tx, who, reservation.id, 'not needed'));
    await expectCode(run((tx) => ledger.release(tx, who, reservation.id)), 'invalid-state');
    child = (await ledger.find(context.handle.db, children[1]!.id))!;
    expect([child.reserved, child.state]).toEqual([0n, 'available']);

    await run((tx) => ledger.consume(tx, who, children[1]!.id, 2_000n, 'analysis'));
    await run((tx) => ledger.adjust(tx, who, children[1]!.id, -7n, 'reweighed'));
    await run((tx) => ledger.adjust(tx, who, root.id, 12n, 'reweighed'));
    const destroyed = await run((tx) => ledger.destroy(tx, who, children[1]!.id, 'contaminated'));
    expect([destroyed.quantity, destroyed.state]).toEqual([0n, 'destroyed']);
    await expectCode(run((tx) => ledger.reserve(tx, who, children[1]!.id, { quantity: 1n })), 'invalid-state');
    const consumed = await run((tx) => ledger.consume(tx, who, grand.children[0]!.id, 1_000n, 'all used'));
    expect(consumed.state).toBe('consumed');

    expect(await conservation(root.id)).toEqual([]);
    const events = await context.handle.db.selectFrom('audit_events').select(['action']).where('stream', '=', `sample:${root.id}`).execute();
    expect(events.length).toBe(10);
  });

  it('chains a reservation onto its lineage\'s audit stream, and starts the stream when the lineage has none (an imported sample)', async () => {
    const c = await collection();
    const created = await run((tx) => ledger.create(tx, who, { collectionId: c.id, kind: 'chip', quantity: 10n }));
    await run((tx) => ledger.reserve(tx, who, created.id, { quantity: 2n }));
    await run((tx) => ledger.reserve(tx, who, created.id, { quantity: 3n }));
    const db = context.handle.db;
    const chained = await db.selectFrom('audit_events').select(['seq', 'action', 'prev_hash', 'hash']).where('stream', '=', `sample:${created.id}`).orderBy('seq').execute();
    expect(chained.map((e) => [String(e.seq), e.action])).toEqual([['1', 'sample.create'], ['2', 'sample.reserve'], ['3', 'sample.reserve']]);
    expect(chained[2]!.prev_hash).toBe(chained[1]!.hash);
    const head = await db.selectFrom('audit_streams').select(['seq', 'head_hash']).where('stream', '=', `sample:${created.id}`).executeTakeFirstOrThrow();
    expect([String(head.seq), head.head_hash]).toEqual(['3', chained[2]!.hash]);

    // A sample written as an import is (its events chain on the import's stream): no stream of its own yet.
    const imported = crypto.randomUUID();
    await db.insertInto('samples').values({ id: imported, collection_id: c.id, identifier: unique('IMP'), kind: 'chip', quantity: 10n, root_id: imported, attributes: JSON.stringify({}) }).execute();
    await db.insertInto('movements').values({ id: crypto.randomUUID(), sample_id: imported, root_id: imported, kind: 'create', delta: 10n, reserved_delta: 0n, quantity_after: 10n, reserved_after: 0n, state_after: 'available', reason: 'import' }).execute();
    await run((tx) => ledger.reserve(tx, who, imported, { quantity: 4n }));
    const first = await db.selectFrom('audit_events').select(['seq', 'action']).where('stream', '=', `sample:${imported}`).execute();
    expect(first.map((e) => [String(e.seq), e.action])).toEqual([['1', 'sample.reserve']]);
    expect(await conservation(imported)).toEqual([]);
    expect((await verifyAudit(db)).ok).toBe(true);
  });

  it('refuses reservations and splits of quarantined samples, and keeps reservations across setState', async () => {
    const c = await collection();
    const s = await run((tx) => ledger.create(tx, who, { collectionId: c.id, kind: 'block', quantity: 10n }));
    await run((tx) => ledger.reserve(tx, who, s.id, { quantity: 3n }));
    const q = await run((tx) => ledger.setState(tx, who, s.id, { state: 'quarantined', movementKind: 'state', reason: 'consent withdrawn' }));
    expect(q.state).toBe('quarantined');
    await expectCode(run((tx) => ledger.reserve(tx, who, s.id, { quantity: 1n })), 'invalid-state');
    await expectCode(run((tx) => ledger.split(tx, who, s.id, { parts: [{ quantity: 1n }], reason: 'x' })), 'invalid-state');
    const back = await run((tx) => ledger.setState(tx, who, s.id, { state: 'available', movementKind: 'state', reason: 'cleared' }));
    expect(back.state).toBe('reserved');
    expect(await conservation(s.id)).toEqual([]);
  });

  it('keeps one sample per box position', async () => {
    const c = await collection();
    const site = crypto.randomUUID();
    const box = crypto.randomUUID();
    await context.handle.db.insertInto('locations').values({ id: site, parent_id: null, kind: 'site', code: unique('S'), name: 'Site', rows: null, cols: null }).execute();
    await context.handle.db.insertInto('locations').values({ id: box, parent_id: site, kind: 'box', code: 'B1', name: 'Box', rows: 2, cols: 2 }).execute();
    const a = await run((tx) => ledger.create(tx, who, { collectionId: c.id, kind: 'k', quantity: 1n, locationId: box, position: 'A1' }));
    await expectCode(run((tx) => ledger.create(tx, who, { collectionId: c.id, kind: 'k', quantity: 1n, locationId: box, position: 'A1' })), 'location-occupied');
    await expectCode(run((tx) => ledger.create(tx, who, { collectionId: c.id, kind: 'k', quantity: 1n, locationId: box, position: 'C1' })), 'validation-failed');
    const b = await run((tx) => ledger.create(tx, who, { collectionId: c.id, kind: 'k', quantity: 1n, locationId: box, position: 'B2' }));
    await expectCode(run((tx) => ledger.move(tx, who, b.id, { locationId: box, position: 'A1' })), 'location-occupied');
    const moved = await run((tx) => ledger.move(tx, who, a.id, { locationId: box, position: 'A2' }));
    expect(moved.position).toBe('A2');
    await run((tx) => ledger.move(tx, who, b.id, { locationId: box, position: 'A1' }));
  });
});
