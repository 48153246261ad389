/**
 * The material's whole journey over HTTP: an executed allocation's subsamples
 * are shipped to two applicants, received (one with a discrepancy), partly
 * consumed and returned, and the loans close; conservation holds for every
 * root and the audit chain verifies.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../core/actor.js';
import { formatQuantity, parseQuantity } from '../../core/quantity.js';
import { inTransaction } from '../../platform/db/tx.js';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { problem, signIn, type SignedIn } from '../../../test/factories.js';
import { buildWorld, json, newApplicant, openCall, submitApplication, type World } from '../calls/calls.testkit.js';
import { ledger } from '../inventory/ledger.js';
import type { LoanView } from '../loans/loans.service.js';
import { lineageViolations } from './distribution.testkit.js';
import type { ShipmentView } from './distribution.service.js';

describe(`from allocation to closed loans on ${engine}`, () => {
  let server: TestServer;
  let world: World;
  let admin: SignedIn;
  beforeAll(async () => {
    server = await createTestServer();
    const base = await buildWorld(server.app, server.context, { reviewers: 0 });
    // Pool samples registered through the ledger, so conservation can be checked from their creation.
    const made = await inTransaction(server.context.handle.db, async (tx) => {
      const who = { actor: systemActor };
      const create = async (kind: string, quantity: bigint) => (await ledger.create(tx, who, { collectionId: base.collectionId, kind, quantity, reason: 'returned by the lander' })).id;
      return { scooped: [await create('scooped', 1_000_000n), await create('scooped', 600_000n)], drilled: [await create('drilled', 400_000n)] };
    });
    world = { ...base, samples: made };
    admin = await signIn(server.app, server.context, ['admin']);
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);
  const as = (who: SignedIn, method: InjectOptions['method'], url: string, payload?: unknown, key?: string) =>
    inject({ method, url: `/api/v1${url}`, headers: { ...who.headers, ...(key ? { 'idempotency-key': key } : {}) }, ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }) });

  it('ships what the allocation reserved, and every gram comes back or is accounted for', async () => {
    const alice = await newApplicant(server.app, server.context);
    const bob = await newApplicant(server.app, server.context);
    const callId = await openCall(server.app, world);
    const a = await submitApplication(server.app, alice, callId, { items: [{ kind: 'scooped', quantity: '3', minimum: '1' }] });
    const b = await submitApplication(server.app, bob, callId, { items: [{ kind: 'scooped', quantity: '2', minimum: '1' }, { kind: 'drilled', quantity: '1', minimum: '0.5' }] });
    for (const to of ['closed', 'in_review']) json(await as(world.chair, 'POST', `/calls/${callId}/transitions`, { to }), 200);
    for (const id of [a, b]) json(await as(world.chair, 'POST', `/applications/${id}/decision`, { outcome: 'approved', rationale: 'Strong case' }), 200);
    json(await as(world.chair, 'POST', `/calls/${callId}/transitions`, { to: 'decided' }), 200);
    const proposed = json<{ id: string }>(await as(world.chair, 'POST', `/calls/${callId}/allocations`, {}), 201);
    json(await as(world.chair, 'POST', `/allocations/${proposed.id}/approve`), 200);
    problem(await as(world.curator, 'POST', '/shipments', { applicationId: a, allocationId: proposed.id }), 409, 'invalid-state');
    json(await as(world.curator, 'POST', `/allocations/${proposed.id}/execute`, undefined, 'execute-1'), 200);
    expect(problem(await as(world.curator, 'POST', '/shipments', { applicationId: a, allocationId: crypto.randomUUID() }), 404, 'not-found').errors[0]!.field).toBe('allocationId');

    const loans: Record<string, LoanView> = {};
    for (const [who, id] of [
      [alice, a],
      [bob, b],
    ] as const) {
      // Alice's shipment names the allocation; Bob's takes every reservation of his application.
      const shipment = json<ShipmentView>(await as(world.curator, 'POST', '/shipments', who === alice ? { applicationId: id, allocationId: proposed.id } : { applicationId: id }), 201);
      expect(shipment.items.length).toBeGreaterThan(0);
      // What travels are the allocation's subsamples, whole.
      for (const item of shipment.items) expect(item.parentIdentifier).not.toBeNull();
      const lines = await server.context.handle.db.selectFrom('allocation_lines').select('child_sample_id').where('allocation_id', '=', proposed.id).where('application_id', '=', id).execute();
      expect(shipment.items.map((i) => i.sampleId).sort()).toEqual(lines.map((l) => l.child_sample_id).sort());
      json(await as(world.curator, 'POST', `/shipments/${shipment.id}/pack`), 200);
      const sent = json<ShipmentView>(await as(world.curator, 'POST', `/shipments/${shipment.id}/dispatch`, { courier: 'SF Express', trackingNumber: `SF-${id.slice(0, 8)}` }), 200);
      // Bob finds 0.1 g less in his first vial; the curator writes it off.
      const items = sent.items.map((i, n) => ({ sampleId: i.sampleId, quantity: who === bob && n === 0 ? formatQuantity(parseQuantity(i.quantity, 4) - 1_000n, 4) : i.quantity, condition: 'intact' }));
      const received = json<ShipmentView>(await as(who, 'POST', `/shipments/${sent.id}/receipt`, { items }), 200);
      for (const incident of received.incidents) json(await as(world.curator, 'POST', `/incidents/${incident.id}/resolve`, { action: 'adjust', resolution: 'Spilled in transit' }), 200);
      loans[id] = json<{ items: LoanView[] }>(await as(who, 'GET', `/loans?applicationId=${id}`), 200).items[0]!;
    }
    expect(loans[a]!.loaned).toBe('3.0000');
    expect(loans[b]!).toMatchObject({ loaned: '3.0000', outstanding: '2.9000', adjusted: '-0.1000' });

    for (const [who, id] of [
      [alice, a],
      [bob, b],
    ] as const) {
      const loan = loans[id]!;
      json(await as(who, 'POST', `/loans/${loan.id}/reports`, { summary: 'Results attached.' }), 201);
      const [first, ...rest] = (json<LoanView>(await as(who, 'GET', `/loans/${loan.id}`), 200)).samples;
      // Half of the first sample is consumed, the other half returned; the rest comes back whole.
      const half = formatQuantity(parseQuantity(first!.held, 4) / 2n, 4);
      json(await as(who, 'POST', `/loans/${loan.id}/consumptions`, { items: [{ sampleId: first!.sampleId, quantity: half, note: 'destructive analysis' }] }, `c-${id}`), 201);
      const left = json<LoanView>(await as(who, 'GET', `/loans/${loan.id}`), 200).samples.find((s) => s.sampleId === first!.sampleId)!.held;
      json(await as(who, 'POST', `/loans/${loan.id}/returns`, { items: [{ sampleId: first!.sampleId, quantity: left }, ...rest.map((s) => ({ sampleId: s.sampleId, quantity: s.held }))] }, `r-${id}`), 201);
      const back = json<LoanView>(await as(world.curator, 'GET', `/loans/${loan.id}`), 200).entries.filter((e) => e.kind === 'return' && e.receivedAt === null);
      for (const entry of back) json(await as(world.curator, 'POST', `/loans/returns/${entry.id}/receipt`, { condition: 'intact' }), 200);
      const closed = json<LoanView>(await as(world.curator, 'POST', `/loans/${loan.id}/close`, {}), 200);
      expect(closed).toMatchObject({ state: 'closed', outstanding: '0.0000', applicationState: 'closed' });
    }

    for (const root of [...world.samples.scooped, ...world.samples.drilled]) expect(await lineageViolations(server.context, root)).toEqual([]);
    const returned = await server.context.handle.db.selectFrom('samples').select(['state', 'location_id']).where('state', '=', 'returned').where('quantity', '>', '0').execute();
    expect(returned.length).toBeGreaterThan(0);
    expect(returned.every((s) => s.location_id === null)).toBe(true);
    expect(json<{ ok: boolean }>(await as(admin, 'GET', '/audit/verify'), 200).ok).toBe(true);
  });
});
