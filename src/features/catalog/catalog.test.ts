/**
 * The public face: the catalog and a call's statistics are read signed out,
 * for calls past draft only, with nothing personal in them; and the
 * statistics' distributed figures per institution and per research direction
 * add up exactly to the total.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { problem, type SignedIn } from '../../../test/factories.js';
import { buildWorld, callBody, json, newApplicant, openCall, submitApplication, type Applicant, type World } from '../calls/calls.testkit.js';

interface Statistics {
  applications: number;
  applicantInstitutions: number;
  approved: number;
  approvedInstitutions: number;
  distributed: { quantity: string; unit: string; byKind: Record<string, string> };
  byResearchDirection: Array<{ direction: string; applications: number; approved: number; distributed: string; distributedByKind: Record<string, string> }>;
  byInstitution?: Array<{ institutionId: string; code: string; name: string; applications: number; approved: number; distributed: string; distributedByKind: Record<string, string> }>;
}

const units = (decimal: string): bigint => BigInt(decimal.replace('.', ''));
const sum = (values: string[]): bigint => values.reduce((total, value) => total + units(value), 0n);

describe(`public catalog and statistics on ${engine}`, () => {
  let server: TestServer;
  let world: World;
  let alice: Applicant;
  let carol: Applicant;
  let bob: Applicant;
  beforeAll(async () => {
    server = await createTestServer();
    world = await buildWorld(server.app, server.context, { reviewers: 1 });
    alice = await newApplicant(server.app, server.context);
    carol = await newApplicant(server.app, server.context, alice.institution);
    bob = await newApplicant(server.app, server.context);
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);
  const as = (who: SignedIn | null, method: InjectOptions['method'], url: string, payload?: unknown) =>
    inject({ method, url: `/api/v1${url}`, headers: who?.headers ?? {}, ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }) });
  const transition = async (callId: string, to: string) => json(await as(world.chair, 'POST', `/calls/${callId}/transitions`, { to }), 200);
  const personal = () => [alice, carol, bob, world.chair, world.curator].flatMap((who) => [who.user.email, who.user.id, (who as Partial<Applicant>).name ?? '']).filter((s) => s.length > 0);

  it('serves the catalog signed out: collections by kind and what each call past draft offers, nothing personal', async () => {
    const open = await openCall(server.app, world);
    const draft = json<{ id: string }>(await as(world.chair, 'POST', '/calls', callBody(world)), 201).id;
    const response = await as(null, 'GET', '/catalog');
    const catalog = json<{ collections: Array<{ id: string; samples: number; quantity: string; byKind: Record<string, { samples: number; quantity: string }> }>; calls: Array<{ id: string; state: string; offer: Array<{ kind: string; releasable: string }> }> }>(response, 200);
    const collection = catalog.collections.find((c) => c.id === world.collectionId)!;
    expect(collection).toMatchObject({ samples: 3, quantity: '200.0000', byKind: { scooped: { samples: 2, quantity: '160.0000' }, drilled: { samples: 1, quantity: '40.0000' } } });
    const offered = catalog.calls.find((c) => c.id === open)!;
    expect(offered.state).toBe('open');
    // The default permanent reserve keeps 75%: a quarter of each kind is offered.
    expect(Object.fromEntries(offered.offer.map((o) => [o.kind, o.releasable]))).toEqual({ scooped: '40.0000', drilled: '10.0000' });
    expect(catalog.calls.map((c) => c.id)).not.toContain(draft);
    for (const needle of personal()) expect(response.body).not.toContain(needle);
    expect(response.body).not.toContain('identifier');
    expect(response.body).not.toContain('panel');
  });

  it('shows a call’s statistics signed out, never a draft’s, and institutions only once decided', async () => {
    const draft = json<{ id: string }>(await as(world.chair, 'POST', '/calls', callBody(world)), 201).id;
    problem(await as(null, 'GET', `/calls/${draft}/statistics`), 404, 'not-found');
    problem(await as(null, 'GET', '/calls/00000000-0000-4000-8000-000000000000/statistics'), 404, 'not-found');
    problem(await as(null, 'GET', `/calls/${draft}/statistics.csv`), 401, 'unauthenticated');

    const callId = await openCall(server.app, world);
    const a = await submitApplication(server.app, alice, callId, { items: [{ kind: 'scooped', quantity: '12.3457', minimum: '1.0000' }, { kind: 'drilled', quantity: '3.3333', minimum: '0.5000' }] });
    const c = await submitApplication(server.app, carol, callId, { researchDirection: 'evolution of the Moon', items: [{ kind: 'scooped', quantity: '7.0001', minimum: '1.0000' }] });
    const b = await submitApplication(server.app, bob, callId, { items: [{ kind: 'scooped', quantity: '9.9999', minimum: '1.0000' }, { kind: 'drilled', quantity: '2.2222', minimum: '0.5000' }] });
    const during = json<Statistics>(await as(null, 'GET', `/calls/${callId}/statistics`), 200);
    expect(during).toMatchObject({ applications: 3, applicantInstitutions: 2, approved: 0, distributed: { quantity: '0.0000', unit: 'g', byKind: {} } });
    // While the (blind) review runs, only the committee sees institutions.
    expect(during.byInstitution).toBeUndefined();
    expect(json<Statistics>(await as(world.chair, 'GET', `/calls/${callId}/statistics`), 200).byInstitution).toHaveLength(2);

    await transition(callId, 'closed');
    await transition(callId, 'in_review');
    for (const id of [a, c, b]) json(await as(world.chair, 'POST', `/applications/${id}/decision`, { outcome: 'approved', rationale: 'Strong case' }), 200);
    await transition(callId, 'decided');
    const proposed = json<{ id: string }>(await as(world.chair, 'POST', `/calls/${callId}/allocations`, { timeLimitSeconds: 10 }), 201);
    json(await as(world.chair, 'POST', `/allocations/${proposed.id}/approve`), 200);
    json(await as(world.curator, 'POST', `/allocations/${proposed.id}/execute`), 200);

    const response = await as(null, 'GET', `/calls/${callId}/statistics`);
    const stats = json<Statistics>(response, 200);
    expect(stats).toMatchObject({ applications: 3, applicantInstitutions: 2, approved: 3, approvedInstitutions: 2 });
    expect(Object.keys(stats.distributed)).toEqual(['quantity', 'unit', 'byKind']);
    const total = units(stats.distributed.quantity);
    expect(total).toBeGreaterThan(0n);
    expect(stats.distributed.quantity).toMatch(/^\d+\.\d{4}$/);
    // Exact: per institution and per research direction, the figures add up to the total, and per kind to each kind.
    const institutions = stats.byInstitution!;
    expect(institutions.map((row) => row.institutionId).sort()).toEqual([alice.institution.id, bob.institution.id].sort());
    expect(institutions.find((row) => row.institutionId === alice.institution.id)).toMatchObject({ name: alice.institution.name, applications: 2, approved: 2 });
    expect(sum(institutions.map((row) => row.distributed))).toBe(total);
    expect(sum(stats.byResearchDirection.map((row) => row.distributed))).toBe(total);
    for (const [kind, quantity] of Object.entries(stats.distributed.byKind)) {
      expect(sum(institutions.map((row) => row.distributedByKind[kind] ?? '0'))).toBe(units(quantity));
      expect(sum(stats.byResearchDirection.map((row) => row.distributedByKind[kind] ?? '0'))).toBe(units(quantity));
    }
    // The same figures as the committee's distribution report (one source: the executed allocation lines).
    const detail = json<{ quantity: string; byInstitution: Array<{ institutionId: string; quantity: string }> }>(await as(world.auditor, 'GET', `/calls/${callId}/distribution`), 200);
    expect(detail.quantity).toBe(stats.distributed.quantity);
    for (const row of detail.byInstitution) expect(institutions.find((i) => i.institutionId === row.institutionId)!.distributed).toBe(row.quantity);
    // Nothing personal: no applicant, chair or curator name, e-mail or id; no reviewer.
    for (const needle of [...personal(), world.reviewers[0]!.user.id, world.reviewers[0]!.user.email]) expect(response.body).not.toContain(needle);
  });

  it('keeps every other call route behind sign-in', async () => {
    const callId = await openCall(server.app, world);
    for (const url of ['/calls', `/calls/${callId}`, `/calls/${callId}/pool`, `/calls/${callId}/distribution`, `/calls/${callId}/ranking`]) {
      problem(await as(null, 'GET', url), 401, 'unauthenticated');
    }
  });
});
