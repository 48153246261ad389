import type { InjectOptions } from 'fastify';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { createInstitution, problem, signIn, type SignedIn } from '../../../test/factories.js';
import { buildWorld, json, newApplicant, type Applicant, type World } from '../calls/calls.testkit.js';
import { allocatedApplication, lineageViolations, pdf, sampleRow } from './distribution.testkit.js';
import type { IncidentView, ShipmentView } from './distribution.service.js';
import type { LoanView } from '../loans/loans.service.js';

describe(`distribution on ${engine}`, () => {
  let server: TestServer;
  let world: World;
  let alice: Applicant;
  let bob: Applicant;
  let admin: SignedIn;
  beforeAll(async () => {
    server = await createTestServer();
    world = await buildWorld(server.app, server.context, { reviewers: 0 });
    alice = await newApplicant(server.app, server.context);
    bob = await newApplicant(server.app, server.context);
    admin = await signIn(server.app, server.context, ['admin']);
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);
  const post = (who: SignedIn | null, url: string, payload?: unknown, key?: string) =>
    inject({ method: 'POST', url: `/api/v1${url}`, headers: { ...(who?.headers ?? {}), ...(key ? { 'idempotency-key': key } : {}) }, ...(payload === undefined ? {} : { payload: payload as object }) });
  const get = (who: SignedIn | null, url: string) => inject({ method: 'GET', url: `/api/v1${url}`, headers: who?.headers ?? {} });
  const allocate = (who: SignedIn, reserve: { whole?: bigint[]; part?: bigint[] }) => allocatedApplication(server.app, server.context, world, who, reserve);
  const applicationState = async (id: string) => json<{ state: string }>(await get(world.chair, `/applications/${id}`), 200).state;

  /** Creates, packs and dispatches a shipment of all the application's reservations. */
  async function dispatched(applicationId: string): Promise<ShipmentView> {
    const created = json<ShipmentView>(await post(world.curator, '/shipments', { applicationId }), 201);
    json(await post(world.curator, `/shipments/${created.id}/pack`), 200);
    return json<ShipmentView>(await post(world.curator, `/shipments/${created.id}/dispatch`, { courier: 'SF Express', trackingNumber: 'SF1234567890' }), 200);
  }

  it('ships, prints, dispatches and confirms receipt: custody events, ledger movements and application states follow', async () => {
    const { applicationId, reservations } = await allocate(alice, { whole: [5_000n, 2_500n] });
    expect(await applicationState(applicationId)).toBe('allocated');

    const created = json<ShipmentView>(await post(world.curator, '/shipments', { applicationId, note: 'Keep dry' }, 'ship-1'), 201);
    expect(created).toMatchObject({ state: 'prepared', applicationId, unit: 'g', total: '0.7500', recipient: { id: alice.user.id, institutionId: alice.institution.id } });
    expect(created.reference).toMatch(/^SHP-[0-9A-F]{10}$/);
    expect(created.items.map((i) => [i.reservationId, i.quantity]).sort()).toEqual(reservations.map((r) => [r.id, r.quantity === 5_000n ? '0.5000' : '0.2500']).sort());
    // The same key and body replays the answer and creates nothing more.
    expect(json<ShipmentView>(await post(world.curator, '/shipments', { applicationId, note: 'Keep dry' }, 'ship-1'), 201).id).toBe(created.id);
    problem(await post(world.curator, '/shipments', { applicationId, note: 'Other' }, 'ship-1'), 422, 'idempotency-key-reuse');
    // Nothing is left to ship for this application.
    problem(await post(world.curator, '/shipments', { applicationId }), 409, 'invalid-state');

    // Dispatch waits for packing.
    problem(await post(world.curator, `/shipments/${created.id}/dispatch`, { courier: 'SF', trackingNumber: '1' }), 409, 'invalid-state');
    json(await post(world.curator, `/shipments/${created.id}/pack`), 200);

    // Packing list and labels: PDFs for the curator and the recipient.
    const list = pdf(await get(world.curator, `/shipments/${created.id}/packing-list.pdf`));
    expect(list.subarray(0, 5).toString()).toBe('%PDF-');
    const labels = await PDFDocument.load(pdf(await get(alice, `/shipments/${created.id}/labels.pdf`)));
    expect(labels.getPageCount()).toBe(1);
    expect(labels.getTitle()).toBe(`Labels ${created.reference}`);
    problem(await get(bob, `/shipments/${created.id}/labels.pdf`), 404, 'not-found');

    const sent = json<ShipmentView>(await post(world.curator, `/shipments/${created.id}/dispatch`, { courier: 'SF Express', trackingNumber: 'SF1234567890' }, 'dispatch-1'), 200);
    expect(sent).toMatchObject({ state: 'dispatched', courier: 'SF Express', trackingNumber: 'SF1234567890' });
    expect(json<ShipmentView>(await post(world.curator, `/shipments/${created.id}/dispatch`, { courier: 'SF Express', trackingNumber: 'SF1234567890' }, 'dispatch-1'), 200).dispatchedAt).toBe(sent.dispatchedAt);
    expect(sent.items.every((i) => i.sampleState === 'in_transit')).toBe(true);
    expect(await applicationState(applicationId)).toBe('shipped');
    const reservation = await server.context.handle.db.selectFrom('reservations').select('state').where('id', '=', reservations[0]!.id).executeTakeFirstOrThrow();
    expect(reservation.state).toBe('fulfilled');
    expect((await sampleRow(server.context, reservations[0]!.sampleId)).reserved).toBe(0n);
    const notes = json<{ items: Array<{ kind: string; body: string }> }>(await get(alice, '/notifications'), 200).items;
    expect(notes.find((n) => n.kind === 'shipment.dispatched')?.body).toContain('SF1234567890');

    const received = json<ShipmentView>(
      await post(alice, `/shipments/${created.id}/receipt`, { items: sent.items.map((i) => ({ sampleId: i.sampleId, quantity: i.quantity, condition: 'intact' })), note: 'All well' }, 'receipt-1'),
      200,
    );
    expect(received.state).toBe('received');
    expect(received.incidents).toEqual([]);
    expect(received.items.every((i) => i.sampleState === 'on_loan' && i.condition === 'intact')).toBe(true);
    expect(received.events.map((e) => e.kind)).toEqual(['created', 'packed', 'dispatched', 'received']);
    expect(await applicationState(applicationId)).toBe('received');

    const movements = await server.context.handle.db.selectFrom('movements').select('kind').where('sample_id', '=', reservations[0]!.sampleId).orderBy('seq').execute();
    expect(movements.map((m) => m.kind)).toEqual(['create', 'reserve', 'release', 'ship', 'receive']);
    const audit = await server.context.handle.db.selectFrom('audit_events').select('action').where('stream', '=', `shipment:${created.id}`).orderBy('seq').execute();
    expect(audit.map((a) => a.action)).toEqual(['shipment.create', 'shipment.pack', 'shipment.dispatch', 'shipment.receive']);

    const loans = json<{ items: LoanView[] }>(await get(alice, `/loans?applicationId=${applicationId}`), 200).items;
    expect(loans).toHaveLength(1);
    expect(loans[0]).toMatchObject({ state: 'open', loaned: '0.7500', outstanding: '0.7500', returned: '0.0000' });
    for (const r of reservations) expect(await lineageViolations(server.context, r.sampleId)).toEqual([]);
    expect(json<{ ok: boolean }>(await get(admin, '/audit/verify'), 200).ok).toBe(true);
  });

  it('splits a partly reserved sample so that only the reserved part travels, and conserves the lineage', async () => {
    const { applicationId, reservations } = await allocate(alice, { part: [1_234n] });
    const parentId = reservations[0]!.sampleId;
    const before = await sampleRow(server.context, parentId);
    const created = json<ShipmentView>(await post(world.curator, '/shipments', { applicationId }), 201);
    expect(created.items).toHaveLength(1);
    const child = await sampleRow(server.context, created.items[0]!.sampleId);
    expect(child).toMatchObject({ parent_id: parentId, quantity: 1_234n, reserved: 1_234n, state: 'reserved' });
    expect(created.items[0]!.parentIdentifier).toBe(before.identifier);
    const after = await sampleRow(server.context, parentId);
    expect(after).toMatchObject({ quantity: 2_468n, reserved: 0n, state: 'available' });
    expect(await lineageViolations(server.context, parentId)).toEqual([]);
  });

  it('opens an incident on a discrepancy, which only a curator resolves; adjusting corrects the ledger', async () => {
    const { applicationId } = await allocate(bob, { whole: [10_000n, 3_000n] });
    const sent = await dispatched(applicationId);
    const [first, second] = sent.items;
    const received = json<ShipmentView>(
      await post(bob, `/shipments/${sent.id}/receipt`, {
        items: [
          { sampleId: first!.sampleId, quantity: '0.9500', condition: 'intact', note: 'vial seal loose' },
          { sampleId: second!.sampleId, quantity: '0.3000', condition: 'damaged' },
        ],
      }),
      200,
    );
    expect(received.incidents.map((x) => [x.identifier, x.kind, x.expected, x.found]).sort()).toEqual(
      [
        [first!.identifier, 'quantity', '1.0000', '0.9500'],
        [second!.identifier, 'condition', '0.3000', '0.3000'],
      ].sort(),
    );
    expect(received.events.map((e) => e.kind)).toEqual(['created', 'packed', 'dispatched', 'incident-opened', 'incident-opened', 'received']);
    const curatorNotes = json<{ items: Array<{ kind: string; body: string }> }>(await get(world.curator, '/notifications'), 200).items;
    expect(curatorNotes.some((n) => n.kind === 'shipment.incident' && n.body.includes('vial seal loose'))).toBe(true);

    const open = json<{ items: IncidentView[] }>(await get(world.curator, `/incidents?state=open&applicationId=${applicationId}`), 200).items;
    expect(open).toHaveLength(2);
    expect(json<{ items: IncidentView[] }>(await get(bob, `/incidents?applicationId=${applicationId}`), 200).items).toHaveLength(2);
    expect(json<{ items: IncidentView[] }>(await get(alice, `/incidents?applicationId=${applicationId}`), 200).items).toHaveLength(0);
    const short = open.find((x) => x.kind === 'quantity')!;
    const damaged = open.find((x) => x.kind === 'condition')!;

    // The loan cannot close while incidents are open.
    const loan = json<{ items: LoanView[] }>(await get(world.curator, `/loans?applicationId=${applicationId}`), 200).items[0]!;
    expect(loan.blockers.map((b) => b.field)).toContain('incidents');

    problem(await post(bob, `/incidents/${short.id}/resolve`, { action: 'adjust', resolution: 'mine' }), 403, 'forbidden');
    problem(await post(world.chair, `/incidents/${short.id}/resolve`, { action: 'adjust', resolution: 'x' }), 403, 'forbidden');
    problem(await post(world.curator, `/incidents/${short.id}/resolve`, { action: 'fix', resolution: 'x' }), 400, 'validation-failed');
    const resolved = json<IncidentView>(await post(world.curator, `/incidents/${short.id}/resolve`, { action: 'adjust', resolution: 'Lost in transit; ledger corrected to the weight found' }, 'resolve-1'), 200);
    expect(resolved).toMatchObject({ state: 'resolved', action: 'adjust', resolvedBy: world.curator.user.id });
    expect(json<IncidentView>(await post(world.curator, `/incidents/${short.id}/resolve`, { action: 'adjust', resolution: 'Lost in transit; ledger corrected to the weight found' }, 'resolve-1'), 200).resolvedAt).toBe(resolved.resolvedAt);
    problem(await post(world.curator, `/incidents/${short.id}/resolve`, { action: 'accept', resolution: 'again' }), 409, 'invalid-state');
    expect((await sampleRow(server.context, first!.sampleId)).quantity).toBe(9_500n);
    json(await post(world.curator, `/incidents/${damaged.id}/resolve`, { action: 'accept', resolution: 'Outer box dented; vial intact' }), 200);
    expect((await sampleRow(server.context, second!.sampleId)).quantity).toBe(3_000n);
    expect(await lineageViolations(server.context, first!.sampleId)).toEqual([]);

    const after = json<LoanView>(await get(world.curator, `/loans/${loan.id}`), 200);
    expect(after).toMatchObject({ loaned: '1.3000', outstanding: '1.2500', adjusted: '-0.0500' });
    expect(after.blockers.map((b) => b.field)).not.toContain('incidents');
    const events = json<ShipmentView>(await get(world.auditor, `/shipments/${sent.id}`), 200).events.map((e) => e.kind);
    expect(events.slice(-2)).toEqual(['incident-resolved', 'incident-resolved']);
  });

  it('lets only the right people act, and hides shipments from other applicants', async () => {
    const { applicationId } = await allocate(alice, { whole: [1_000n] });
    problem(await post(alice, '/shipments', { applicationId }), 403, 'forbidden');
    problem(await post(world.chair, '/shipments', { applicationId }), 403, 'forbidden');
    problem(await post(null, '/shipments', { applicationId }), 401, 'unauthenticated');
    const created = json<ShipmentView>(await post(world.curator, '/shipments', { applicationId }), 201);
    problem(await post(world.auditor, `/shipments/${created.id}/pack`), 403, 'forbidden');
    problem(await post(alice, `/shipments/${created.id}/pack`), 403, 'forbidden');
    json(await get(world.auditor, `/shipments/${created.id}`), 200);
    json(await get(alice, `/shipments/${created.id}`), 200);
    problem(await get(bob, `/shipments/${created.id}`), 404, 'not-found');
    expect(json<{ items: ShipmentView[] }>(await get(bob, '/shipments'), 200).items.map((s) => s.id)).not.toContain(created.id);
    expect(json<{ items: ShipmentView[] }>(await get(alice, '/shipments'), 200).items.map((s) => s.id)).toContain(created.id);
    json(await post(world.curator, `/shipments/${created.id}/pack`), 200);
    const sent = json<ShipmentView>(await post(world.curator, `/shipments/${created.id}/dispatch`, { courier: 'EMS', trackingNumber: 'EE1' }), 200);
    const body = { items: [{ sampleId: sent.items[0]!.sampleId, quantity: '0.1000', condition: 'intact' }] };
    problem(await post(world.curator, `/shipments/${created.id}/receipt`, body), 403, 'forbidden');
    problem(await post(bob, `/shipments/${created.id}/receipt`, body), 404, 'not-found');
    json(await post(alice, `/shipments/${created.id}/receipt`, body), 200);
    problem(await post(alice, `/shipments/${created.id}/receipt`, body), 409, 'invalid-state');
  });

  it('refuses bad input naming the field, and changes nothing', async () => {
    const { applicationId, reservations } = await allocate(alice, { whole: [2_000n, 1_000n] });
    expect(problem(await post(world.curator, '/shipments', { applicationId: 'nope' }), 400, 'validation-failed').errors[0]!.field).toContain('applicationId');
    expect(problem(await post(world.curator, '/shipments', { applicationId, extra: 1 }), 400, 'validation-failed').detail).toBeTruthy();
    expect(problem(await post(world.curator, '/shipments', { applicationId, loanDueAt: 'tomorrow' }), 400, 'validation-failed').errors[0]!.field).toContain('loanDueAt');
    expect(problem(await post(world.curator, '/shipments', { applicationId, loanDueAt: '2020-01-01T00:00:00Z' }), 400, 'validation-failed').errors[0]!.field).toBe('loanDueAt');
    expect(problem(await post(world.curator, '/shipments', { applicationId: crypto.randomUUID() }), 404, 'not-found').errors[0]!.field).toBe('applicationId');
    // A reservation of another application cannot ride along.
    const other = await allocate(bob, { whole: [1_000n] });
    const mixed = problem(await post(world.curator, '/shipments', { applicationId, reservationIds: [reservations[0]!.id, other.reservations[0]!.id] }), 400, 'validation-failed');
    expect(mixed.errors).toEqual([{ field: 'reservationIds.1', message: 'is not a reservation for this application' }]);
    // An application that is not allocated gets nothing.
    problem(await post(world.curator, '/shipments', { applicationId: (await allocate(alice, {})).applicationId }), 409, 'invalid-state');

    const one = json<ShipmentView>(await post(world.curator, '/shipments', { applicationId, reservationIds: [reservations[0]!.id] }), 201);
    expect(one.items.map((i) => i.reservationId)).toEqual([reservations[0]!.id]);
    expect(problem(await post(world.curator, '/shipments', { applicationId, reservationIds: [reservations[0]!.id] }), 400, 'validation-failed').errors[0]).toEqual({ field: 'reservationIds.0', message: 'is already in a shipment' });
    json(await post(world.curator, `/shipments/${one.id}/pack`), 200);
    expect(problem(await post(world.curator, `/shipments/${one.id}/dispatch`, { courier: '', trackingNumber: 'x' }), 400, 'validation-failed').errors[0]!.field).toContain('courier');
    const sent = json<ShipmentView>(await post(world.curator, `/shipments/${one.id}/dispatch`, { courier: 'EMS', trackingNumber: 'E2' }), 200);
    const sampleId = sent.items[0]!.sampleId;
    const receipt = (items: unknown[]) => post(alice, `/shipments/${one.id}/receipt`, { items });
    expect(problem(await receipt([{ sampleId, quantity: '0.20001', condition: 'intact' }]), 400, 'invalid-quantity').errors[0]!.field).toBe('items.0.quantity');
    expect(problem(await receipt([{ sampleId, quantity: '-1', condition: 'intact' }]), 400, 'invalid-quantity').errors[0]!.field).toBe('items.0.quantity');
    expect(problem(await receipt([{ sampleId, quantity: '0.2', condition: 'wet' }]), 400, 'validation-failed').errors[0]!.field).toContain('condition');
    expect(problem(await receipt([{ sampleId: reservations[1]!.sampleId, quantity: '0.1', condition: 'intact' }]), 400, 'validation-failed').errors[0]!.field).toBe('items.0.sampleId');
    expect(problem(await receipt([{ sampleId, quantity: '0.2', condition: 'intact' }, { sampleId, quantity: '0.2', condition: 'intact' }]), 400, 'validation-failed').errors[0]!.field).toBe('items.1.sampleId');
    expect(json<ShipmentView>(await get(alice, `/shipments/${one.id}`), 200).state).toBe('dispatched');
    expect((await sampleRow(server.context, sampleId)).state).toBe('in_transit');

    // Cancelling a prepared shipment frees its reservations for another one.
    const rest = json<ShipmentView>(await post(world.curator, '/shipments', { applicationId }), 201);
    problem(await post(world.curator, `/shipments/${rest.id}/cancel`, {}), 400, 'validation-failed');
    expect(json<ShipmentView>(await post(world.curator, `/shipments/${rest.id}/cancel`, { reason: 'Courier strike' }), 200).state).toBe('cancelled');
    expect(json<ShipmentView>(await post(world.curator, '/shipments', { applicationId }), 201).items.map((i) => i.reservationId)).toEqual([reservations[1]!.id]);
    problem(await post(world.curator, `/shipments/${sent.id}/cancel`, { reason: 'too late' }), 409, 'invalid-state');
  });

  it('ships a reservation once when two curators race, and dispatches once', async () => {
    const { applicationId, reservations } = await allocate(alice, { whole: [700n, 300n] });
    const other = await signIn(server.app, server.context, ['curator']);
    const created = await Promise.all([post(world.curator, '/shipments', { applicationId }), post(other, '/shipments', { applicationId })]);
    expect(created.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    const shipment = created.find((r) => r.statusCode === 201)!.json<ShipmentView>();
    expect(shipment.items.map((i) => i.reservationId).sort()).toEqual(reservations.map((r) => r.id).sort());
    json(await post(world.curator, `/shipments/${shipment.id}/pack`), 200);
    const sent = await Promise.all([post(world.curator, `/shipments/${shipment.id}/dispatch`, { courier: 'SF', trackingNumber: 'A' }), post(other, `/shipments/${shipment.id}/dispatch`, { courier: 'EMS', trackingNumber: 'B' })]);
    expect(sent.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const ships = await server.context.handle.db.selectFrom('movements').select('sample_id').where('kind', '=', 'ship').where('sample_id', 'in', shipment.items.map((i) => i.sampleId)).execute();
    expect(ships).toHaveLength(2);
    for (const r of reservations) expect(await lineageViolations(server.context, r.sampleId)).toEqual([]);
  });

  it('prints names and titles in any script without failing', async () => {
    const institution = await createInstitution(server.context, '中国科学院地质与地球物理研究所');
    const chinese = await newApplicant(server.app, server.context, { id: institution.id, code: institution.code, name: institution.name });
    const { applicationId } = await allocate(chinese, { whole: [100n] });
    await server.context.handle.db.updateTable('applications').set({ title: '嫦娥五号玄武岩年龄 — Ångström' }).where('id', '=', applicationId).execute();
    const created = json<ShipmentView>(await post(world.curator, '/shipments', { applicationId }), 201);
    const list = await PDFDocument.load(pdf(await get(world.curator, `/shipments/${created.id}/packing-list.pdf`)));
    expect(list.getPageCount()).toBe(1);
    pdf(await get(chinese, `/shipments/${created.id}/labels.pdf`));
  });
});
