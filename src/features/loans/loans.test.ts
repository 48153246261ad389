import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../core/actor.js';
import { inTransaction } from '../../platform/db/tx.js';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { problem, signIn, type SignedIn } from '../../../test/factories.js';
import { applicationBody, buildWorld, json, newApplicant, openCall, type Applicant, type World } from '../calls/calls.testkit.js';
import { allocatedApplication, lineageViolations, sampleRow } from '../distribution/distribution.testkit.js';
import type { ShipmentView } from '../distribution/distribution.service.js';
import { ledger } from '../inventory/ledger.js';
import type { LoanView } from './loans.service.js';

const days = (n: number): string => new Date(Date.now() + n * 86_400_000).toISOString();

function harness(getServer: () => TestServer, getWorld: () => World) {
  const inject = (options: InjectOptions) => getServer().app.inject(options);
  const post = (who: SignedIn | null, url: string, payload?: unknown, key?: string) =>
    inject({ method: 'POST', url: `/api/v1${url}`, headers: { ...(who?.headers ?? {}), ...(key ? { 'idempotency-key': key } : {}) }, ...(payload === undefined ? {} : { payload: payload as object }) });
  const get = (who: SignedIn | null, url: string) => inject({ method: 'GET', url: `/api/v1${url}`, headers: who?.headers ?? {} });
  const patch = (who: SignedIn, url: string, payload: unknown) => inject({ method: 'PATCH', url: `/api/v1${url}`, headers: who.headers, payload: payload as object });

  /** An application of `who` with the given whole samples shipped and received intact; returns its loan. */
  async function onLoan(who: SignedIn, quantities: bigint[]): Promise<{ loan: LoanView; applicationId: string; shipment: ShipmentView }> {
    const world = getWorld();
    const { applicationId } = await allocatedApplication(getServer().app, getServer().context, world, who, { whole: quantities });
    const created = json<ShipmentView>(await post(world.curator, '/shipments', { applicationId }), 201);
    json(await post(world.curator, `/shipments/${created.id}/pack`), 200);
    const sent = json<ShipmentView>(await post(world.curator, `/shipments/${created.id}/dispatch`, { courier: 'China Post', trackingNumber: 'CP1' }), 200);
    const shipment = json<ShipmentView>(await post(who, `/shipments/${sent.id}/receipt`, { items: sent.items.map((i) => ({ sampleId: i.sampleId, quantity: i.quantity, condition: 'intact' })) }), 200);
    const loan = json<{ items: LoanView[] }>(await get(who, `/loans?applicationId=${applicationId}`), 200).items[0]!;
    return { loan, applicationId, shipment };
  }
  return { inject, post, get, patch, onLoan };
}

describe(`loans on ${engine}`, () => {
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
  const { post, get, patch, onLoan } = harness(
    () => server,
    () => world,
  );
  /** The curator records the arrival of every return of the loan still in transit, as declared. */
  const receiveReturns = async (loanId: string) => {
    const pending = json<LoanView>(await get(world.curator, `/loans/${loanId}`), 200).entries.filter((e) => e.kind === 'return' && e.receivedAt === null);
    expect(pending.length).toBeGreaterThan(0);
    for (const entry of pending) json(await post(world.curator, `/loans/returns/${entry.id}/receipt`, { condition: 'intact' }), 200);
  };
  const applicationState = async (id: string) => json<{ state: string }>(await get(world.chair, `/applications/${id}`), 200).state;

  it('lists returns in transit on the returns desk; the curator records their receipt once, with what was found', async () => {
    const { loan } = await onLoan(bob, [10_000n]);
    const loaned = loan.samples[0]!;
    const returned = json<LoanView>(await post(bob, `/loans/${loan.id}/returns`, { items: [{ sampleId: loaned.sampleId, quantity: '0.5000', note: 'unused chips' }] }), 201);
    const entry = returned.entries.find((e) => e.kind === 'return')!;
    expect(entry).toMatchObject({ receivedAt: null, receivedQuantity: null });

    type Return = { id: string; state: string; quantity: string; returnedSampleId: string; applicant: { name: string }; receivedQuantity: string | null; receivedCondition: string | null; receiptNote: string | null };
    const inTransit = json<{ items: Return[] }>(await get(world.curator, '/loans/returns?state=in_transit&limit=200'), 200).items;
    expect(inTransit.find((r) => r.id === entry.id)).toMatchObject({ state: 'in_transit', quantity: '0.5000', returnedSampleId: entry.returnedSampleId, applicant: { name: bob.name } });
    expect(json<{ items: Return[] }>(await get(world.curator, '/loans/returns?state=received&limit=200'), 200).items.map((r) => r.id)).not.toContain(entry.id);
    problem(await get(bob, '/loans/returns'), 403, 'forbidden');
    problem(await post(bob, `/loans/returns/${entry.id}/receipt`, { condition: 'intact' }), 403, 'forbidden');
    problem(await post(world.curator, '/loans/returns/00000000-0000-4000-8000-000000000000/receipt', { condition: 'intact' }), 404, 'not-found');
    expect(problem(await post(world.curator, `/loans/returns/${entry.id}/receipt`, { condition: 'intact', quantity: '0.5001' }), 400, 'validation-failed').errors[0]!.field).toBe('quantity');

    // 0.4990 g found of 0.5000 g declared: the returned sample is adjusted, with the reason; replaying the key changes nothing more.
    const body = { condition: 'intact', quantity: '0.4990', note: 'weighed on arrival' };
    const received = json<Return>(await post(world.curator, `/loans/returns/${entry.id}/receipt`, body, `receipt-${entry.id}`), 200);
    expect(received).toMatchObject({ state: 'received', receivedQuantity: '0.4990', receivedCondition: 'intact', receiptNote: 'weighed on arrival' });
    expect(json<Return>(await post(world.curator, `/loans/returns/${entry.id}/receipt`, body, `receipt-${entry.id}`), 200)).toEqual(received);
    expect(await sampleRow(server.context, entry.returnedSampleId!)).toMatchObject({ quantity: 4_990n, state: 'returned' });
    const moves = await server.context.handle.db.selectFrom('movements').select(['kind', 'delta']).where('sample_id', '=', entry.returnedSampleId!).orderBy('seq').execute();
    expect(moves.map((m) => [m.kind, String(m.delta)])).toEqual([
      ['split-in', '5000'],
      ['return', '0'],
      ['adjust', '-10'],
      ['receive', '0'],
    ]);
    problem(await post(world.curator, `/loans/returns/${entry.id}/receipt`, { condition: 'intact' }), 409, 'invalid-state');
    expect(json<{ items: Return[] }>(await get(world.curator, '/loans/returns?state=received&limit=200'), 200).items.map((r) => r.id)).toContain(entry.id);
    expect(json<LoanView>(await get(bob, `/loans/${loan.id}`), 200).entries.find((e) => e.id === entry.id)).toMatchObject({ receivedQuantity: '0.4990', receivedCondition: 'intact' });
    for (const sample of loan.samples) expect(await lineageViolations(server.context, sample.sampleId)).toEqual([]);

    // Damaged material is quarantined on receipt.
    const again = json<LoanView>(await post(bob, `/loans/${loan.id}/returns`, { items: [{ sampleId: loaned.sampleId, quantity: '0.1000', condition: 'damaged' }] }), 201);
    const second = again.entries.filter((e) => e.kind === 'return').find((e) => e.id !== entry.id)!;
    json(await post(world.curator, `/loans/returns/${second.id}/receipt`, { condition: 'damaged' }), 200);
    expect(await sampleRow(server.context, second.returnedSampleId!)).toMatchObject({ quantity: 1_000n, state: 'quarantined' });
  });

  it('runs from receipt to closing: report, publication, consumption, partial then full return; every gram accounted for', async () => {
    const { loan, applicationId, shipment } = await onLoan(alice, [10_000n, 4_000n]);
    expect(loan).toMatchObject({ state: 'open', loaned: '1.4000', outstanding: '1.4000', overdue: { report: false, material: false } });
    expect(loan.blockers.map((b) => b.field)).toEqual(['outstanding', 'reports']);
    expect(new Date(loan.dueAt).getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    const [big, small] = [...shipment.items].sort((a, b) => (a.quantity < b.quantity ? 1 : -1));

    const reported = json<LoanView>(await post(alice, `/loans/${loan.id}/reports`, { summary: 'Pb-Pb ages of 2.0 Ga for the basalt clasts.' }), 201);
    expect(reported.reports).toHaveLength(1);
    expect(await applicationState(applicationId)).toBe('reporting');

    expect(problem(await post(alice, `/loans/${loan.id}/publications`, { doi: 'nature 2021', title: 'Age of basalts', acknowledgement: 'Samples provided by CNSA' }), 400, 'validation-failed').errors[0]!.field).toBe('doi');
    const published = json<LoanView>(await post(alice, `/loans/${loan.id}/publications`, { doi: 'https://doi.org/10.1038/s41586-021-04100-2', title: 'Two-billion-year-old volcanism on the Moon', acknowledgement: 'We thank the CNSA for the Chang’e-5 samples.' }), 201);
    expect(published.publications.map((p) => p.doi)).toEqual(['10.1038/s41586-021-04100-2']);
    problem(await post(alice, `/loans/${loan.id}/publications`, { doi: '10.1038/S41586-021-04100-2', title: 'Again', acknowledgement: 'x' }), 409, 'duplicate');

    // Consumption, replayed with the same key, is recorded once.
    const consumption = { items: [{ sampleId: big!.sampleId, quantity: '0.2500', note: 'SIMS mounts' }] };
    const consumed = json<LoanView>(await post(alice, `/loans/${loan.id}/consumptions`, consumption, 'consume-1'), 201);
    expect(json<LoanView>(await post(alice, `/loans/${loan.id}/consumptions`, consumption, 'consume-1'), 201).consumed).toBe(consumed.consumed);
    expect(consumed).toMatchObject({ consumed: '0.2500', outstanding: '1.1500' });

    // A partial return becomes a new sample, split from the loaned one, marked returned and unplaced.
    const partial = json<LoanView>(await post(alice, `/loans/${loan.id}/returns`, { items: [{ sampleId: big!.sampleId, quantity: '0.5000', note: 'unused chips' }] }, 'return-1'), 201);
    expect(partial).toMatchObject({ returned: '0.5000', outstanding: '0.6500' });
    const entry = partial.entries.find((e) => e.kind === 'return')!;
    const returned = await sampleRow(server.context, entry.returnedSampleId!);
    expect(returned).toMatchObject({ parent_id: big!.sampleId, quantity: 5_000n, state: 'returned', location_id: null });
    expect(entry.returnedIdentifier).toBe(returned.identifier);
    // Returned material is kept apart: it cannot be reserved like pristine material.
    await expect(inTransaction(server.context.handle.db, (tx) => ledger.reserve(tx, { actor: systemActor }, returned.id, { quantity: 1n }))).rejects.toMatchObject({ code: 'invalid-state' });

    const refused = problem(await post(world.curator, `/loans/${loan.id}/close`, {}), 409, 'invalid-state');
    expect(refused.errors).toEqual([
      { field: 'returns', message: '1 return(s) not yet received back into custody' },
      { field: 'outstanding', message: '0.6500 g is neither returned nor reported consumed' },
    ]);
    expect(problem(await post(alice, `/loans/${loan.id}/returns`, { items: [{ sampleId: big!.sampleId, quantity: '0.2501' }] }), 409, 'insufficient-quantity').errors[0]!.field).toBe('items.0.quantity');

    const all = json<LoanView>(
      await post(alice, `/loans/${loan.id}/returns`, { items: [{ sampleId: big!.sampleId, quantity: '0.2500' }, { sampleId: small!.sampleId, quantity: '0.4000', condition: 'damaged' }] }),
      201,
    );
    expect(all).toMatchObject({ loaned: '1.4000', returned: '1.1500', consumed: '0.2500', adjusted: '0.0000', outstanding: '0.0000', blockers: [{ field: 'returns', message: '3 return(s) not yet received back into custody' }] });
    expect(all.samples.map((s) => [s.held, s.state])).toEqual([
      ['0.0000', 'returned'],
      ['0.0000', 'returned'],
    ]);

    problem(await post(alice, `/loans/${loan.id}/close`, {}), 403, 'forbidden');
    // Every gram is accounted for on paper, but the returns are still on their way back: not closable yet.
    const inTransit = problem(await post(world.curator, `/loans/${loan.id}/close`, {}), 409, 'invalid-state');
    expect(inTransit.errors).toEqual([{ field: 'returns', message: '3 return(s) not yet received back into custody' }]);
    await receiveReturns(loan.id);
    const closed = json<LoanView>(await post(world.curator, `/loans/${loan.id}/close`, { note: 'All accounted for' }), 200);
    expect(closed).toMatchObject({ state: 'closed', closeNote: 'All accounted for', applicationState: 'closed' });
    expect(await applicationState(applicationId)).toBe('closed');
    problem(await post(alice, `/loans/${loan.id}/returns`, { items: [{ sampleId: big!.sampleId, quantity: '0.0001' }] }), 409, 'invalid-state');
    problem(await post(world.curator, `/loans/${loan.id}/close`, {}), 409, 'invalid-state');

    for (const item of shipment.items) expect(await lineageViolations(server.context, item.sampleId)).toEqual([]);
    const audit = await server.context.handle.db.selectFrom('audit_events').select('action').where('stream', '=', `loan:${loan.id}`).orderBy('seq').execute();
    expect(audit.map((a) => a.action)).toEqual(['loan.open', 'loan.report', 'loan.publication', 'loan.consume', 'loan.return', 'loan.return', 'loan.return.receive', 'loan.return.receive', 'loan.return.receive', 'loan.close']);
    const transitions = await server.context.handle.db.selectFrom('audit_events').select('data').where('stream', '=', `application:${applicationId}`).where('action', '=', 'application.transition').orderBy('seq').execute();
    expect(transitions.map((t) => (t.data as { to: string }).to)).toEqual(['in_review', 'allocated', 'shipped', 'received', 'reporting', 'closed']);
    expect(json<{ ok: boolean }>(await get(admin, '/audit/verify'), 200).ok).toBe(true);
  });

  it('blocks an applicant with an overdue obligation from applying, lists the loan as overdue, and tells them once', async () => {
    const { loan } = await onLoan(bob, [2_000n]);
    const callId = await openCall(server.app, world);
    json(await patch(world.curator, `/loans/${loan.id}`, { reportDueAt: days(-1) }), 200);
    const overdue = json<{ items: LoanView[] }>(await get(world.curator, '/loans?overdue=true'), 200).items;
    expect(overdue.map((l) => l.id)).toContain(loan.id);
    expect(overdue.find((l) => l.id === loan.id)!.overdue).toEqual({ report: true, material: false });
    expect(json<{ items: LoanView[] }>(await get(alice, '/loans?overdue=true'), 200).items.map((l) => l.id)).not.toContain(loan.id);

    const blocked = problem(await post(bob, '/applications', applicationBody(callId)), 403, 'obligations-overdue');
    expect(blocked.detail).toContain('overdue');
    // Other applicants are not affected.
    json(await post(alice, '/applications', applicationBody(callId)), 201);

    const first = await server.context.services.loans.sendReminders();
    expect(first.overdue).toBeGreaterThanOrEqual(1);
    await server.context.services.loans.sendReminders();
    const notes = json<{ items: Array<{ kind: string; entityId: string | null }> }>(await get(bob, '/notifications'), 200).items.filter((n) => n.kind === 'loan.overdue' && n.entityId === loan.id);
    expect(notes).toHaveLength(1);
    expect(json<{ items: Array<{ kind: string; entityId: string | null }> }>(await get(world.curator, '/notifications'), 200).items.some((n) => n.kind === 'loan.overdue' && n.entityId === loan.id)).toBe(true);

    json(await post(bob, `/loans/${loan.id}/reports`, { summary: 'Late, but here.' }), 201);
    expect(json<{ items: LoanView[] }>(await get(world.curator, '/loans?overdue=true'), 200).items.map((l) => l.id)).not.toContain(loan.id);
    json(await post(bob, '/applications', applicationBody(callId)), 201);

    // Material past its due date blocks too.
    json(await patch(world.curator, `/loans/${loan.id}`, { dueAt: days(-1) }), 200);
    expect(json<LoanView>(await get(bob, `/loans/${loan.id}`), 200).overdue).toEqual({ report: false, material: true });
    problem(await post(bob, '/applications', applicationBody(callId)), 403, 'obligations-overdue');
  });

  it('reminds once per date when several server processes run the reminders at the same moment', async () => {
    const { loan } = await onLoan(alice, [1_000n]);
    json(await patch(world.curator, `/loans/${loan.id}`, { reportDueAt: days(3), dueAt: days(5) }), 200);
    // Every run reads its candidates first; each then claims what is still unclaimed under the loan's row lock.
    const runs = await Promise.all(Array.from({ length: 4 }, () => server.context.services.loans.sendReminders()));
    expect(runs.reduce((sum, run) => sum + run.reminders, 0)).toBe(2);
    const mine = json<{ items: Array<{ kind: string; entityId: string | null }> }>(await get(alice, '/notifications?limit=200'), 200).items.filter((n) => n.entityId === loan.id);
    expect(mine.filter((n) => n.kind === 'loan.reminder.report')).toHaveLength(1);
    expect(mine.filter((n) => n.kind === 'loan.reminder.return')).toHaveLength(1);
  });

  it('reminds the recipient before a due date, once per date', async () => {
    const { loan } = await onLoan(alice, [1_000n]);
    json(await patch(world.curator, `/loans/${loan.id}`, { reportDueAt: days(3), dueAt: days(5) }), 200);
    await server.context.services.loans.sendReminders();
    await server.context.services.loans.sendReminders();
    const mine = json<{ items: Array<{ kind: string; entityId: string | null }> }>(await get(alice, '/notifications?limit=200'), 200).items.filter((n) => n.entityId === loan.id);
    expect(mine.filter((n) => n.kind === 'loan.reminder.report')).toHaveLength(1);
    expect(mine.filter((n) => n.kind === 'loan.reminder.return')).toHaveLength(1);
    // Curators may run the reminders at once; nothing is sent twice.
    problem(await post(alice, '/loans/reminders'), 403, 'forbidden');
    expect(json<{ reminders: number; overdue: number }>(await post(world.curator, '/loans/reminders'), 200)).toEqual({ reminders: 0, overdue: 0 });
    // A new date is reminded again.
    json(await patch(world.curator, `/loans/${loan.id}`, { reportDueAt: days(2) }), 200);
    // The server's periodic tasks (run every minute by serve) include the loan reminders.
    await server.context.services.notifications.runPeriodicTasks();
    const again = json<{ items: Array<{ kind: string; entityId: string | null }> }>(await get(alice, '/notifications?limit=200'), 200).items.filter((n) => n.entityId === loan.id && n.kind === 'loan.reminder.report');
    expect(again).toHaveLength(2);
  });

  it('lets only the recipient fulfil and only curators manage; others do not see the loan', async () => {
    const { loan, shipment } = await onLoan(alice, [1_000n]);
    const sampleId = shipment.items[0]!.sampleId;
    problem(await get(bob, `/loans/${loan.id}`), 404, 'not-found');
    expect(json<{ items: LoanView[] }>(await get(bob, '/loans'), 200).items.map((l) => l.id)).not.toContain(loan.id);
    problem(await post(bob, `/loans/${loan.id}/reports`, { summary: 'not mine' }), 404, 'not-found');
    problem(await post(bob, `/loans/${loan.id}/returns`, { items: [{ sampleId, quantity: '0.0100' }] }), 404, 'not-found');
    problem(await post(world.curator, `/loans/${loan.id}/reports`, { summary: 'x' }), 403, 'forbidden');
    problem(await post(world.curator, `/loans/${loan.id}/consumptions`, { items: [{ sampleId, quantity: '0.0100', note: 'x' }] }), 403, 'forbidden');
    problem(await patch(alice, `/loans/${loan.id}`, { dueAt: days(900) }), 403, 'forbidden');
    problem(await post(world.auditor, `/loans/${loan.id}/close`, {}), 403, 'forbidden');
    problem(await post(world.chair, `/loans/${loan.id}/close`, {}), 403, 'forbidden');
    json(await get(world.auditor, `/loans/${loan.id}`), 200);
    json(await get(world.chair, '/loans?overdue=true'), 200);
    problem(await get(null, '/loans'), 401, 'unauthenticated');
  });

  it('closes a loan whose lost sample was written off by the curator', async () => {
    const dave = await newApplicant(server.app, server.context);
    const { applicationId } = await allocatedApplication(server.app, server.context, world, dave, { whole: [2_000n, 1_000n] });
    const created = json<ShipmentView>(await post(world.curator, '/shipments', { applicationId }), 201);
    json(await post(world.curator, `/shipments/${created.id}/pack`), 200);
    const sent = json<ShipmentView>(await post(world.curator, `/shipments/${created.id}/dispatch`, { courier: 'EMS', trackingNumber: 'E9' }), 200);
    const [lost, kept] = sent.items;
    const received = json<ShipmentView>(await post(dave, `/shipments/${sent.id}/receipt`, { items: [{ sampleId: lost!.sampleId, quantity: '0', condition: 'missing' }, { sampleId: kept!.sampleId, quantity: kept!.quantity, condition: 'intact' }] }), 200);
    const incident = received.incidents[0]!;
    expect(received.incidents).toHaveLength(1);
    expect(incident).toMatchObject({ kind: 'missing', identifier: lost!.identifier, found: '0.0000' });
    const loanId = json<{ items: LoanView[] }>(await get(dave, `/loans?applicationId=${applicationId}`), 200).items[0]!.id;
    json(await post(world.curator, `/incidents/${incident.id}/resolve`, { action: 'adjust', resolution: 'Lost by the courier; claim filed' }), 200);
    json(await post(dave, `/loans/${loanId}/reports`, { summary: 'Done with what arrived.' }), 201);
    json(await post(dave, `/loans/${loanId}/returns`, { items: [{ sampleId: kept!.sampleId, quantity: kept!.quantity }] }), 201);
    await receiveReturns(loanId);
    const closed = json<LoanView>(await post(world.curator, `/loans/${loanId}/close`, {}), 200);
    expect(closed).toMatchObject({ state: 'closed', loaned: '0.3000', returned: '0.1000', adjusted: '-0.2000', outstanding: '0.0000' });
    expect(await lineageViolations(server.context, lost!.sampleId)).toEqual([]);
  });

  it('accounts for the last material once when two returns race: one wins, the other gets a conflict', async () => {
    const { loan, shipment } = await onLoan(alice, [1_000n]);
    const sampleId = shipment.items[0]!.sampleId;
    const body = { items: [{ sampleId, quantity: '0.0600' }] };
    const answers = await Promise.all([post(alice, `/loans/${loan.id}/returns`, body), post(alice, `/loans/${loan.id}/consumptions`, { items: [{ sampleId, quantity: '0.0600', note: 'ICP-MS' }] })]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409]);
    problem(answers.find((a) => a.statusCode === 409)!, 409, 'insufficient-quantity');
    const after = json<LoanView>(await get(alice, `/loans/${loan.id}`), 200);
    expect(after.outstanding).toBe('0.0400');
    expect(await lineageViolations(server.context, sampleId)).toEqual([]);
  });

  it('refuses bad input naming the field, and changes nothing', async () => {
    const { loan, shipment } = await onLoan(alice, [1_000n]);
    const sampleId = shipment.items[0]!.sampleId;
    expect(problem(await patch(world.curator, `/loans/${loan.id}`, {}), 400, 'validation-failed').errors[0]!.field).toBe('body');
    expect(problem(await patch(world.curator, `/loans/${loan.id}`, { dueAt: 'soon' }), 400, 'validation-failed').errors[0]!.field).toContain('dueAt');
    problem(await post(alice, `/loans/${loan.id}/reports`, { summary: '   ' }), 400, 'validation-failed');
    expect(problem(await post(alice, `/loans/${loan.id}/consumptions`, { items: [{ sampleId, quantity: '0.01' }] }), 400, 'validation-failed').errors[0]!.field).toContain('note');
    expect(problem(await post(alice, `/loans/${loan.id}/consumptions`, { items: [{ sampleId, quantity: '0.00001', note: 'x' }] }), 400, 'invalid-quantity').errors[0]!.field).toBe('items.0.quantity');
    expect(problem(await post(alice, `/loans/${loan.id}/returns`, { items: [{ sampleId: world.samples.drilled[0]!, quantity: '0.01' }] }), 400, 'validation-failed').errors[0]!.field).toBe('items.0.sampleId');
    expect(problem(await post(alice, `/loans/${loan.id}/returns`, { items: [{ sampleId, quantity: '0' }] }), 400, 'invalid-quantity').errors[0]!.field).toBe('items.0.quantity');
    problem(await post(alice, `/loans/${loan.id}/returns`, { items: [] }), 400, 'validation-failed');
    problem(await get(world.curator, '/loans?overdue=maybe'), 400, 'validation-failed');
    problem(await get(world.curator, `/loans/${crypto.randomUUID()}`), 404, 'not-found');
    const after = json<LoanView>(await get(alice, `/loans/${loan.id}`), 200);
    expect(after).toMatchObject({ outstanding: '0.1000', returned: '0.0000', consumed: '0.0000', reports: [] });
  });
});

describe(`loans with SAMPLEBANK_BLOCK_OVERDUE=0 on ${engine}`, () => {
  let server: TestServer;
  let world: World;
  beforeAll(async () => {
    server = await createTestServer({ blockOverdue: false });
    world = await buildWorld(server.app, server.context, { reviewers: 0 });
  });
  afterAll(async () => server?.close());
  const { post, patch, onLoan } = harness(
    () => server,
    () => world,
  );

  it('lets an applicant with an overdue report apply', async () => {
    const carol = await newApplicant(server.app, server.context);
    const { loan } = await onLoan(carol, [1_000n]);
    json(await patch(world.curator, `/loans/${loan.id}`, { reportDueAt: days(-2) }), 200);
    const callId = await openCall(server.app, world);
    json(await post(carol, '/applications', applicationBody(callId)), 201);
  });
});
