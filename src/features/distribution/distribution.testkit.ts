/**
 * Test data for distribution and loans: an approved application moved to
 * `allocated` with material reserved to it through the ledger, as executing an
 * allocation does (allocation is another feature; this stands in for it).
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { systemActor } from '../../core/actor.js';
import { checkLineage, type ConservationViolation } from '../../core/ledger.js';
import type { Context } from '../../compose.js';
import { inTransaction } from '../../platform/db/tx.js';
import { ledger } from '../inventory/ledger.js';
import { json, openCall, submitApplication, type World } from '../calls/calls.testkit.js';
import type { SignedIn } from '../../../test/factories.js';

export interface Allocated {
  callId: string;
  applicationId: string;
  /** Reservations made for the application, in the order asked. */
  reservations: Array<{ id: string; sampleId: string; quantity: bigint }>;
}

/**
 * An application by `applicant`, approved and allocated, with the given
 * quantities reserved to it: `whole` creates a new root sample per quantity and
 * reserves all of it (what executing an allocation leaves), `part` reserves
 * from a new sample three times as large (shipment creation then splits it off).
 */
export async function allocatedApplication(app: FastifyInstance, context: Context, world: World, applicant: SignedIn, reserve: { whole?: bigint[]; part?: bigint[] }): Promise<Allocated> {
  const callId = await openCall(app, world);
  const applicationId = await submitApplication(app, applicant, callId);
  const transition = async (to: string) => json(await app.inject({ method: 'POST', url: `/api/v1/calls/${callId}/transitions`, headers: world.chair.headers, payload: { to } }), 200);
  await transition('closed');
  await transition('in_review');
  json(await app.inject({ method: 'POST', url: `/api/v1/applications/${applicationId}/decision`, headers: world.chair.headers, payload: { outcome: 'approved', rationale: 'Ranked first' } }), 200);
  const who = { actor: systemActor };
  const reservations = await inTransaction(context.handle.db, async (tx) => {
    const made: Allocated['reservations'] = [];
    for (const quantity of reserve.whole ?? []) {
      const sample = await ledger.create(tx, who, { collectionId: world.collectionId, kind: 'scooped', quantity, reason: 'test material' });
      const r = await ledger.reserve(tx, who, sample.id, { quantity, applicationId });
      made.push({ id: r.id, sampleId: sample.id, quantity });
    }
    for (const quantity of reserve.part ?? []) {
      const sample = await ledger.create(tx, who, { collectionId: world.collectionId, kind: 'scooped', quantity: quantity * 3n, reason: 'test material' });
      const r = await ledger.reserve(tx, who, sample.id, { quantity, applicationId });
      made.push({ id: r.id, sampleId: sample.id, quantity });
    }
    await context.services.applications.advance(tx, systemActor, applicationId, 'allocated', { test: true });
    return made;
  });
  return { callId, applicationId, reservations };
}

/** Conservation over the lineage of the root of `sampleId` (src/core/ledger.ts checkLineage). */
export async function lineageViolations(context: Context, sampleId: string): Promise<ConservationViolation[]> {
  const db = context.handle.db;
  const { root_id: rootId } = await db.selectFrom('samples').select('root_id').where('id', '=', sampleId).executeTakeFirstOrThrow();
  const samples = await db.selectFrom('samples').select(['id', 'quantity', 'reserved']).where('root_id', '=', rootId).execute();
  const active = await db.selectFrom('reservations').select(['sample_id', 'quantity']).where('state', '=', 'active').where('sample_id', 'in', samples.map((s) => s.id)).execute();
  const entries = await db.selectFrom('movements').select(['sample_id', 'kind', 'delta', 'reserved_delta']).where('root_id', '=', rootId).orderBy('seq').execute();
  return checkLineage(
    rootId,
    samples.map((s) => ({ id: s.id, quantity: BigInt(s.quantity), reserved: BigInt(s.reserved), activeReservations: active.filter((a) => a.sample_id === s.id).reduce((sum, a) => sum + BigInt(a.quantity), 0n) })),
    entries.map((e) => ({ sampleId: e.sample_id, kind: e.kind, delta: BigInt(e.delta), reservedDelta: BigInt(e.reserved_delta) })),
  );
}

export async function sampleRow(context: Context, id: string) {
  const row = await context.handle.db.selectFrom('samples').select(['id', 'identifier', 'quantity', 'reserved', 'state', 'parent_id', 'root_id', 'location_id']).where('id', '=', id).executeTakeFirstOrThrow();
  return { ...row, quantity: BigInt(row.quantity), reserved: BigInt(row.reserved) };
}

export function pdf(response: LightMyRequestResponse): Buffer {
  if (response.statusCode !== 200) throw new Error(`expected 200, got ${response.statusCode}: ${response.body}`);
  if (response.headers['content-type'] !== 'application/pdf') throw new Error(`not a PDF: ${response.headers['content-type']}`);
  return response.rawPayload;
}
