/**
 * A withdrawal while the donor's material is on loan and in a shipment being
 * prepared: the curator is told where each piece is, the prepared shipment can
 * no longer leave, and the material on loan cannot be split for distribution.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../core/actor.js';
import { inTransaction } from '../../platform/db/tx.js';
import { createTestServer, type TestServer } from '../../../test/harness.js';
import { problem } from '../../../test/factories.js';
import { buildWorld, json, newApplicant, openCall, submitApplication, type World } from '../calls/calls.testkit.js';
import { ledger } from '../inventory/ledger.js';
import { donorCode } from './pathology.testkit.js';

let server: TestServer;
let world: World;

beforeAll(async () => {
  server = await createTestServer();
  world = await buildWorld(server.app, server.context, { humanConsent: true });
});

afterAll(async () => {
  await server.close();
});

describe('holdings of a withdrawn donor', () => {
  it('lists the open loan and the prepared shipment, releases the reservation and tells the curator', async () => {
    const { app, context } = server;
    const post = (headers: { authorization: string }, url: string, payload: unknown = {}) => app.inject({ method: 'POST', url: `/api/v1${url}`, headers, payload: payload as Record<string, unknown> });
    const applicant = await newApplicant(app, context);
    const callId = await openCall(app, world);
    const applicationId = await submitApplication(app, applicant, callId, { ethicsReference: 'IRB-2020-033' });
    json(await post(world.chair.headers, `/calls/${callId}/transitions`, { to: 'closed' }), 200);
    json(await post(world.chair.headers, `/calls/${callId}/transitions`, { to: 'in_review' }), 200);
    json(await post(world.chair.headers, `/applications/${applicationId}/decision`, { outcome: 'approved', rationale: 'Ranked first' }), 200);
    const who = { actor: systemActor };
    const [loaned, pending] = await inTransaction(context.handle.db, async (tx) => {
      const made = [];
      for (const quantity of [5_000n, 2_000n]) {
        const sample = await ledger.create(tx, who, { collectionId: world.collectionId, kind: 'scooped', quantity, reason: 'frozen lung tissue' });
        const reservation = await ledger.reserve(tx, who, sample.id, { quantity, applicationId });
        made.push({ sampleId: sample.id, reservationId: reservation.id });
      }
      await context.services.applications.advance(tx, systemActor, applicationId, 'allocated', { test: true });
      return made as [{ sampleId: string; reservationId: string }, { sampleId: string; reservationId: string }];
    });
    const donor = json<{ id: string; code: string }>(await post(world.curator.headers, '/donors', { code: donorCode(), collectionId: world.collectionId, consent: { scope: ['external-sharing'], givenOn: '2020-03-01', formVersion: 'v1' } }), 201);
    for (const { sampleId } of [loaned, pending]) json(await post(world.curator.headers, `/donors/${donor.id}/specimens`, { sampleId, fixation: 'frozen', biosafetyLevel: 3 }), 201);

    const first = json<{ id: string; items: Array<{ sampleId: string; quantity: string }> }>(await post(world.curator.headers, '/shipments', { applicationId, reservationIds: [loaned.reservationId] }), 201);
    json(await post(world.curator.headers, `/shipments/${first.id}/pack`), 200);
    json(await post(world.curator.headers, `/shipments/${first.id}/dispatch`, { courier: 'Cold chain courier', trackingNumber: 'CC-1' }), 200);
    json(await post(applicant.headers, `/shipments/${first.id}/receipt`, { items: first.items.map((i) => ({ sampleId: i.sampleId, quantity: i.quantity, condition: 'intact' })) }), 200);
    const second = json<{ id: string; reference: string }>(await post(world.curator.headers, '/shipments', { applicationId, reservationIds: [pending.reservationId] }), 201);

    const result = json<{ releasedReservations: Array<{ reservationId: string }>; holdings: { loans: Array<{ sampleId: string }>; shipments: Array<{ sampleId: string; shipmentId: string; shipmentState: string }> } }>(
      await post(world.curator.headers, `/donors/${donor.id}/consent-withdrawal`, { reason: 'withdrawn in writing' }),
      200,
    );
    expect(result.releasedReservations.map((r) => r.reservationId)).toEqual([pending.reservationId]);
    expect(result.holdings.loans.map((l) => l.sampleId)).toEqual([first.items[0]!.sampleId]);
    expect(result.holdings.shipments).toEqual([expect.objectContaining({ sampleId: pending.sampleId, shipmentId: second.id, shipmentState: 'prepared' })]);

    const notes = json<{ items: Array<{ kind: string; body: string }> }>(await app.inject({ method: 'GET', url: '/api/v1/notifications', headers: world.curator.headers }), 200);
    const note = notes.items.find((n) => n.kind === 'consent.withdrawn')!;
    expect(note.body).toContain(second.reference);
    expect(note.body).toContain('On open loans');

    // The prepared shipment cannot leave, and what is on loan cannot be split off for anyone.
    json(await post(world.curator.headers, `/shipments/${second.id}/pack`), 200);
    expect((await post(world.curator.headers, `/shipments/${second.id}/dispatch`, { courier: 'Cold chain courier', trackingNumber: 'CC-2' })).statusCode).toBe(409);
    problem(await post(world.curator.headers, `/samples/${first.items[0]!.sampleId}/split`, { parts: [{ quantity: '0.1000' }], reason: 'for another lab' }), 409, 'consent-withdrawn');
  });
});
