/**
 * Consent before allocation: the solver never sees a withdrawn donor's
 * material, and each application draws only on samples whose donor's consent
 * covers its intended uses (pathology's consentForAllocation builds both into
 * the solver's input); the explanation names what was excluded and why, and
 * an edit that puts such material back is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../../../test/harness.js';
import { problem, type SignedIn } from '../../../test/factories.js';
import { buildWorld, callBody, json, newApplicant, openCall, seedSample, submitApplication, type World } from '../calls/calls.testkit.js';
import { donorCode } from './pathology.testkit.js';

interface Allocation {
  id: string;
  applications: Array<{ applicationId: string; explanation: string; items: Array<{ kind: string; allocated: string; outcome: string; reason: string; params: Record<string, unknown>; exclusions: unknown[]; pieces: Array<{ sampleId: string; quantity: string }> }> }>;
  verification: { ok: boolean } | null;
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

    const edit = { items: [{ applicationId, kind: 'scooped', pieces: [{ sampleId: withdrawn, quantity: '10' }] }] };
    const check = json<{ ok: boolean; violations: Array<{ code: string }> }>(await as(world.chair, 'POST', `/allocations/${proposed.id}/check`, edit), 200);
    expect(check.ok).toBe(false);
    expect(check.violations).toContainEqual(expect.objectContaining({ code: 'consent-excluded', sampleId: withdrawn, reason: 'consent-withdrawn' }));
    const refused = problem(await as(world.chair, 'PATCH', `/allocations/${proposed.id}`, edit), 409, 'consent-withdrawn');
    expect(refused.detail).toContain('the donor withdrew consent');
  });

  it("excludes, per application, the samples whose donor's consent does not cover its uses, says why, and refuses an edit that puts one back", async () => {
    const { app, context } = server;
    const as = (who: SignedIn, method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown) =>
      app.inject({ method, url: `/api/v1${url}`, headers: who.headers, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
    // Two scooped samples: the donor of `sequenced` consented to genetic analysis, the donor of `plain` did not.
    const sequenced = await seedSample(context, world.collectionId, 'scooped', 500_000n);
    const plain = await seedSample(context, world.collectionId, 'scooped', 1_000_000n);
    for (const [sampleId, scope] of [[sequenced, ['genetic-analysis']], [plain, []]] as const) {
      const donor = json<{ id: string }>(await as(world.curator, 'POST', '/donors', { code: donorCode(), collectionId: world.collectionId, consent: { scope, givenOn: '2020-03-01', formVersion: 'v1' } }), 201);
      json(await as(world.curator, 'POST', `/donors/${donor.id}/specimens`, { sampleId }), 201);
    }
    const identifiers = new Map<string, string>();
    for (const id of [sequenced, plain]) identifiers.set(id, json<{ identifier: string }>(await as(world.curator, 'GET', `/samples/${id}`), 200).identifier);

    const callId = json<{ id: string }>(await as(world.chair, 'POST', '/calls', callBody(world, { reserveFraction: '0' })), 201).id;
    json(await as(world.curator, 'PUT', `/calls/${callId}/pool`, { sampleIds: [sequenced, plain] }), 200);
    json(await as(world.chair, 'POST', `/calls/${callId}/transitions`, { to: 'open' }), 200);
    // One application sequences (it needs consent to genetic analysis); the other does not.
    const genetics = await newApplicant(app, context);
    const sequencing = await submitApplication(app, genetics, callId, { ethicsReference: 'IRB-2020-041', items: [{ kind: 'scooped', quantity: '80', minimum: '10' }] });
    json(await as(genetics, 'PUT', `/applications/${sequencing}/uses`, { uses: ['genetic-analysis'] }), 200);
    const histology = await newApplicant(app, context);
    const staining = await submitApplication(app, histology, callId, { ethicsReference: 'IRB-2020-042', items: [{ kind: 'scooped', quantity: '40', minimum: '10' }] });
    for (const to of ['closed', 'in_review']) json(await as(world.chair, 'POST', `/calls/${callId}/transitions`, { to }), 200);
    for (const id of [sequencing, staining]) json(await as(world.chair, 'POST', `/applications/${id}/decision`, { outcome: 'approved', rationale: 'Sound' }), 200);
    json(await as(world.chair, 'POST', `/calls/${callId}/transitions`, { to: 'decided' }), 200);

    const proposed = json<Allocation>(await as(world.chair, 'POST', `/calls/${callId}/allocations`, { minCut: '0.5' }), 201);
    const of = (applicationId: string) => proposed.applications.find((a) => a.applicationId === applicationId)!;
    // The sequencing application gets only what the consenting donor gave (50 of its 80 g), never the other sample;
    // the histology application, which needs no such consent, is cut from that other sample.
    const item = of(sequencing).items[0]!;
    expect(item.pieces.map((p) => p.sampleId)).toEqual([sequenced]);
    expect(item).toMatchObject({ allocated: '50.0000', outcome: 'partial', reason: 'consent-scope-excluded', params: { excluded: 1, excludedSamples: identifiers.get(plain), missingUses: 'genetic-analysis' } });
    expect(item.exclusions).toEqual([
      { code: 'consent-scope-excluded', sampleId: plain, sampleIdentifier: identifiers.get(plain), reason: 'use-not-consented', uses: ['genetic-analysis'], message: "the donor's consent does not cover genetic-analysis" },
    ]);
    expect(of(sequencing).explanation).toContain(`excluded by consent: sample ${identifiers.get(plain)} (the donor's consent does not cover genetic-analysis)`);
    expect(of(staining).items[0]!.pieces.map((p) => p.sampleId)).toEqual([plain]);
    expect(of(staining).items[0]!.exclusions).toEqual([]);
    expect(proposed.verification).toMatchObject({ ok: true });

    // The chair's live check names the rule; the edit itself is refused with its own problem type, and nothing changes.
    const edit = { items: [{ applicationId: sequencing, kind: 'scooped', pieces: [{ sampleId: sequenced, quantity: '50' }, { sampleId: plain, quantity: '30' }] }] };
    const check = json<{ ok: boolean; violations: Array<{ code: string; sampleId?: string; reason?: string; uses?: string[]; message: string }> }>(await as(world.chair, 'POST', `/allocations/${proposed.id}/check`, edit), 200);
    expect(check.ok).toBe(false);
    expect(check.violations).toContainEqual(expect.objectContaining({ code: 'consent-excluded', sampleId: plain, reason: 'use-not-consented', uses: ['genetic-analysis'] }));
    const refused = problem(await as(world.chair, 'PATCH', `/allocations/${proposed.id}`, edit), 409, 'consent-scope-excluded');
    expect(refused.detail).toContain(identifiers.get(plain)!);
    expect(refused.detail).toContain('genetic-analysis');
    expect(refused.errors).toContainEqual({ field: 'items.0.pieces.1', message: expect.stringContaining('genetic-analysis') });
    const after = json<Allocation>(await as(world.chair, 'GET', `/allocations/${proposed.id}`), 200);
    expect(after.applications.find((a) => a.applicationId === sequencing)!.items[0]!.pieces.map((p) => p.sampleId)).toEqual([sequenced]);

    // The proposal as made is approved and executed: the consenting donor's material goes to the sequencing group.
    json(await as(world.chair, 'POST', `/allocations/${proposed.id}/approve`), 200);
    const executed = json<Allocation & { state: string }>(await as(world.chair, 'POST', `/allocations/${proposed.id}/execute`), 200);
    expect(executed.state).toBe('executed');
  });
});
