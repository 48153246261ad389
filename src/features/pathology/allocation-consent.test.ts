/**
 * The allocation solver never sees a withdrawn donor's material: the input
 * build applies consent (pathology's consentAvailable), an edit that puts the
 * material back is refused by the check, and execution would meet the ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../../../test/harness.js';
import { problem, type SignedIn } from '../../../test/factories.js';
import { buildWorld, callBody, json, newApplicant, openCall, submitApplication, type World } from '../calls/calls.testkit.js';
import { donorCode } from './pathology.testkit.js';

interface Allocation {
  id: string;
  applications: Array<{ applicationId: string; items: Array<{ kind: string; allocated: string; pieces: Array<{ sampleId: string; quantity: string }> }> }>;
}

let server: TestServer;
let world: World;

beforeAll(async () => {
  server = await createTestServer();
  world = await buildWorld(server.app, server.context, { humanConsent: true, reviewers: 1 });
});

afterAll(async () => {
  await server.close();
});

describe('allocation and consent', () => {
  it('proposes nothing from a withdrawn donor or from human material without consent, and refuses an edit that adds it', async () => {
    const { app, context } = server;
    const as = (who: SignedIn, method: 'POST' | 'PATCH', url: string, payload: unknown = {}) => app.inject({ method, url: `/api/v1${url}`, headers: who.headers, payload: payload as Record<string, unknown> });
    const [kept, withdrawn] = world.samples.scooped as [string, string];
    const link = async (sampleIds: string[]) => {
      const donor = json<{ id: string }>(await as(world.curator, 'POST', '/donors', { code: donorCode(), collectionId: world.collectionId, consent: { scope: ['external-sharing'], givenOn: '2020-03-01', formVersion: 'v1' } }), 201);
      for (const sampleId of sampleIds) json(await as(world.curator, 'POST', `/donors/${donor.id}/specimens`, { sampleId }), 201);
      return donor.id;
    };
    // The drilled sample has no donor and so no consent: human material without consent is not offered either.
    await link([kept]);
    const leaving = await link([withdrawn]);

    const callId = await openCall(app, world, { reserveFraction: '0' });
    const applicant = await newApplicant(app, context);
    const applicationId = await submitApplication(app, applicant, callId, { ethicsReference: 'IRB-2020-040', items: [{ kind: 'scooped', quantity: '150', minimum: '10' }, { kind: 'drilled', quantity: '5', minimum: '1' }] });
    json(await as(world.curator, 'POST', `/donors/${leaving}/consent-withdrawal`, { reason: 'withdrawn' }), 200);
    for (const to of ['closed', 'in_review']) json(await as(world.chair, 'POST', `/calls/${callId}/transitions`, { to }), 200);
    json(await as(world.chair, 'POST', `/applications/${applicationId}/decision`, { outcome: 'approved', rationale: 'Sound' }), 200);
    json(await as(world.chair, 'POST', `/calls/${callId}/transitions`, { to: 'decided' }), 200);

    const proposed = json<Allocation>(await as(world.chair, 'POST', `/calls/${callId}/allocations`, { minCut: '0.5' }), 201);
    const pieces = proposed.applications.flatMap((a) => a.items.flatMap((i) => i.pieces));
    expect(pieces.length).toBeGreaterThan(0);
    expect(pieces.map((p) => p.sampleId)).not.toContain(withdrawn);
    expect(pieces.every((p) => p.sampleId === kept)).toBe(true);
    const drilled = proposed.applications[0]!.items.find((i) => i.kind === 'drilled')!;
    expect(drilled.pieces).toEqual([]);

    const check = json<{ ok: boolean; violations: Array<{ code: string }> }>(
      await as(world.chair, 'POST', `/allocations/${proposed.id}/check`, { items: [{ applicationId, kind: 'scooped', pieces: [{ sampleId: withdrawn, quantity: '10' }] }] }),
      200,
    );
    expect(check.ok).toBe(false);
  });

  it("refuses to approve an allocation whose pieces the donor's consent does not cover for the application's uses", async () => {
    const { app, context } = server;
    const as = (who: SignedIn, method: 'POST' | 'PUT', url: string, payload: unknown = {}) => app.inject({ method, url: `/api/v1${url}`, headers: who.headers, payload: payload as Record<string, unknown> });
    const callId = json<{ id: string }>(await as(world.chair, 'POST', '/calls', callBody(world, { reserveFraction: '0' })), 201).id;
    json(await as(world.curator, 'PUT', `/calls/${callId}/pool`, { sampleIds: [world.samples.scooped[0]!] }), 200);
    json(await as(world.chair, 'POST', `/calls/${callId}/transitions`, { to: 'open' }), 200);
    const applicant = await newApplicant(app, context);
    const applicationId = await submitApplication(app, applicant, callId, { ethicsReference: 'IRB-2020-041', items: [{ kind: 'scooped', quantity: '20', minimum: '10' }] });
    // The donor of the scooped sample allowed external sharing only; this application sequences.
    json(await as(applicant, 'PUT', `/applications/${applicationId}/uses`, { uses: ['genetic-analysis'] }), 200);
    for (const to of ['closed', 'in_review']) json(await as(world.chair, 'POST', `/calls/${callId}/transitions`, { to }), 200);
    json(await as(world.chair, 'POST', `/applications/${applicationId}/decision`, { outcome: 'approved', rationale: 'Sound' }), 200);
    json(await as(world.chair, 'POST', `/calls/${callId}/transitions`, { to: 'decided' }), 200);
    const proposed = json<Allocation>(await as(world.chair, 'POST', `/calls/${callId}/allocations`, { minCut: '0.5' }), 201);
    expect(proposed.applications[0]!.items[0]!.pieces.length).toBeGreaterThan(0);
    const refused = problem(await as(world.chair, 'POST', `/allocations/${proposed.id}/approve`), 409, 'conflict');
    expect(refused.detail).toContain('genetic-analysis');
  });
});
