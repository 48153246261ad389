/**
 * The demo is what a new user sees first: it must build through the real
 * services and show the published figures of the Chang'e-5 first batch, and
 * beside it the pathology bank with consent (the second scenario).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo, type DemoResult } from '../src/features/demo/demo.js';
import { FIRST_BATCH, partition } from '../src/features/demo/lunar.js';
import { prng } from '../src/features/demo/random.js';
import { createTestServer, type TestServer } from './harness.js';

describe('partition', () => {
  it('splits a total exactly, every share above the floor, the same way for the same seed', () => {
    for (const seed of [1, 2, 3, 99]) {
      const shares = partition(prng(seed), 174_764n, 31, 1500n);
      expect(shares).toHaveLength(31);
      expect(shares.reduce((a, b) => a + b, 0n)).toBe(174_764n);
      expect(shares.every((s) => s >= 1500n)).toBe(true);
      expect(partition(prng(seed), 174_764n, 31, 1500n)).toEqual(shares);
    }
  });
});

describe('the demo (lunar, then pathology)', () => {
  let server: TestServer;
  let demo: DemoResult;
  let loadSeconds = 0;
  beforeAll(async () => {
    server = await createTestServer();
    const started = Date.now();
    demo = await loadDemo(server.context);
    loadSeconds = (Date.now() - started) / 1000;
  }, 600_000);
  afterAll(async () => server?.close());

  async function signIn(email: string): Promise<Record<string, string>> {
    const response = await server.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'demo-password' } });
    expect(response.statusCode, response.body).toBe(200);
    return { authorization: `Bearer ${(response.json() as { token: string }).token}` };
  }

  it('shows the published figures of the first batch in its statistics', async () => {
    const response = await server.app.inject({ method: 'GET', url: `/api/v1/calls/${demo.lunar.firstCallId}/statistics`, headers: await signIn('chair@demo.samplebank.test') });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      applications: FIRST_BATCH.applications,
      applicantInstitutions: FIRST_BATCH.institutions,
      approved: FIRST_BATCH.approved,
      approvedInstitutions: FIRST_BATCH.approvedInstitutions,
      distributed: { quantity: FIRST_BATCH.distributed, unit: 'g' },
    });
  });

  it('gives the documented accounts: the applicant has applications, the reviewer has reviews', async () => {
    const applicant = await signIn('applicant@demo.samplebank.test');
    const mine = await server.app.inject({ method: 'GET', url: `/api/v1/applications?mine=true&callId=${demo.lunar.firstCallId}`, headers: applicant });
    expect((mine.json() as { items: unknown[] }).items.length).toBeGreaterThan(0);
    const reviewer = await signIn('reviewer@demo.samplebank.test');
    const reviews = await server.app.inject({ method: 'GET', url: `/api/v1/reviews?callId=${demo.lunar.firstCallId}`, headers: reviewer });
    expect(reviews.statusCode, reviews.body).toBe(200);
    expect((reviews.json() as { items: unknown[] }).items.length).toBeGreaterThan(0);
    const pending = (await server.app.inject({ method: 'GET', url: `/api/v1/reviews?callId=${demo.lunar.secondCallId}`, headers: reviewer })).json() as { items: Array<{ state: string }> };
    expect(pending.items.filter((r) => r.state === 'assigned').length).toBeGreaterThan(0);
    for (const email of ['curator@demo.samplebank.test', 'admin@demo.samplebank.test', 'auditor@demo.samplebank.test']) await signIn(email);
  });

  it('ships part of the batch: receipts, one overdue report, one partial return', async () => {
    const curator = await signIn('curator@demo.samplebank.test');
    const shipments = (await server.app.inject({ method: 'GET', url: '/api/v1/shipments?limit=50', headers: curator })).json() as { items: Array<{ state: string }> };
    expect(shipments.items.filter((s) => s.state === 'received')).toHaveLength(8);
    expect(shipments.items.filter((s) => s.state === 'dispatched')).toHaveLength(2);
    const overdue = (await server.app.inject({ method: 'GET', url: '/api/v1/loans?overdue=true', headers: curator })).json() as { items: unknown[] };
    expect(overdue.items).toHaveLength(1);
    const returned = (await server.app.inject({ method: 'GET', url: '/api/v1/samples?state=returned', headers: curator })).json() as { items: unknown[] };
    expect(returned.items).toHaveLength(1);
  });

  async function get<T>(url: string, headers: Record<string, string>): Promise<T> {
    const response = await server.app.inject({ method: 'GET', url: `/api/v1${url}`, headers });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as T;
  }

  it('builds the pathology bank: a human collection with a few hundred specimens from a few dozen donors', async () => {
    const curator = await signIn('pathology-curator@demo.samplebank.test');
    const collection = await get<{ id: string; code: string; humanConsent: boolean; unit: string }>(`/collections/${demo.pathology.collectionId}`, curator);
    expect(collection).toMatchObject({ code: 'COVIDPATH', humanConsent: true, unit: 'count' });
    const donors = await get<{ items: Array<{ id: string; specimens: number; consentWithdrawnAt: string | null; consents: Array<{ scope: string[] }> }>; nextCursor: string | null }>(`/donors?collectionId=${collection.id}&limit=500`, curator);
    expect(donors.nextCursor).toBeNull();
    expect(donors.items.length).toBeGreaterThanOrEqual(24);
    expect(donors.items.length).toBeLessThanOrEqual(60);
    const specimens = donors.items.reduce((sum, d) => sum + d.specimens, 0);
    expect(specimens).toBeGreaterThanOrEqual(200);
    expect(specimens).toBeLessThan(1000);
    expect(specimens).toBe(demo.pathology.specimens);
    const summary = await get<{ samples: number }>(`/collections/${collection.id}/summary`, curator);
    expect(summary.samples).toBe(demo.pathology.samples);
    // Consents differ from donor to donor, so intended uses really select material.
    expect(new Set(donors.items.map((d) => JSON.stringify(d.consents.at(-1)?.scope ?? []))).size).toBeGreaterThan(1);
  });

  it('has exactly one donor who withdrew consent, and every sample of theirs (and only theirs) is quarantined', async () => {
    const curator = await signIn('pathology-curator@demo.samplebank.test');
    const donors = await get<{ items: Array<{ id: string; consentWithdrawnAt: string | null }> }>(`/donors?collectionId=${demo.pathology.collectionId}&limit=500`, curator);
    const withdrawn = donors.items.filter((d) => d.consentWithdrawnAt !== null);
    expect(withdrawn.map((d) => d.id)).toEqual([demo.pathology.withdrawnDonorId]);
    const quarantined = await get<{ items: Array<{ id: string; state: string }>; nextCursor: string | null }>(`/samples?collectionId=${demo.pathology.collectionId}&state=quarantined&limit=500`, curator);
    expect(quarantined.items.length).toBeGreaterThan(0);
    expect(quarantined.items).toHaveLength(demo.pathology.quarantined);
    for (const sample of quarantined.items) {
      expect((await get<{ donorId: string }>(`/samples/${sample.id}/specimen`, curator)).donorId).toBe(demo.pathology.withdrawnDonorId);
    }
    // Their blocks with the H&E slides cut from them, frozen tissue and fluid: every lineage of the donor is quarantined whole.
    const donor = await get<{ specimens: number }>(`/donors/${demo.pathology.withdrawnDonorId}`, curator);
    const roots = new Set<string>();
    for (const sample of quarantined.items) roots.add((await get<{ rootId: string }>(`/samples/${sample.id}`, curator)).rootId);
    expect(roots.size).toBe(donor.specimens);
    const quarantinedIds = new Set(quarantined.items.map((s) => s.id));
    for (const root of roots) {
      const lineage = await get<{ descendants: Array<{ id: string }> }>(`/samples/${root}/lineage`, curator);
      for (const id of [root, ...lineage.descendants.map((d) => d.id)]) expect(quarantinedIds.has(id)).toBe(true);
    }
  });

  it('opens a pathology call whose applications come from the three universities of the network', async () => {
    const chair = await signIn('pathology-chair@demo.samplebank.test');
    const call = await get<{ id: string; state: string; collectionId: string; eligibleInstitutionIds: string[] }>(`/calls/${demo.pathology.callId}`, chair);
    expect(call).toMatchObject({ state: 'open', collectionId: demo.pathology.collectionId });
    const applications = await get<{ items: Array<{ institutionId?: string; state: string }> }>(`/applications?callId=${call.id}&limit=200`, chair);
    expect(applications.items.length).toBeGreaterThanOrEqual(3);
    const institutions = new Set(applications.items.map((a) => a.institutionId));
    expect(institutions.size).toBe(3);
    expect(institutions).toEqual(new Set(call.eligibleInstitutionIds));
    expect(new Set(demo.pathology.institutions.map((i) => i.id))).toEqual(institutions);
  });

  it('keeps the audit chain intact after building everything', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: await signIn('auditor@demo.samplebank.test') });
    expect(response.json()).toMatchObject({ ok: true });
  });

  it('loads both scenarios quickly enough to run at first start', () => {
    // Logged so a slower demo shows in the test output; generous against a loaded CI machine.
    console.info(`demo loaded in ${loadSeconds.toFixed(1)} s`);
    expect(loadSeconds).toBeLessThan(300);
  });

  it('removes the demo accounts for good once a real admin exists, keeping what they recorded', async () => {
    const before = await server.app.inject({ method: 'GET', url: '/api/v1/demo' });
    expect(before.json()).toMatchObject({ accounts: demo.lunar.accounts.length + demo.pathology.accounts.length, domain: 'demo.samplebank.test' });
    const demoAdmin = await signIn('admin@demo.samplebank.test');
    const applicant = await signIn('applicant@demo.samplebank.test');

    // The demo admin alone cannot remove the only admins there are.
    const refused = await server.app.inject({ method: 'DELETE', url: '/api/v1/demo/accounts', headers: demoAdmin });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({ type: 'conflict', errors: [{ field: 'accounts' }] });
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/demo' })).json()).toMatchObject({ accounts: before.json<{ accounts: number }>().accounts });

    const institutions = (await server.app.inject({ method: 'GET', url: '/api/v1/institutions', headers: demoAdmin })).json<{ items: Array<{ id: string }> }>().items;
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: demoAdmin,
      payload: { email: 'real-admin@bank.example.org', name: 'Real Admin', password: 'a-real-password-1', institutionId: institutions[0]!.id, roles: ['admin'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const realAdmin = await server.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'real-admin@bank.example.org', password: 'a-real-password-1' } });
    const realHeaders = { authorization: `Bearer ${realAdmin.json<{ token: string }>().token}` };

    const removed = await server.app.inject({ method: 'DELETE', url: '/api/v1/demo/accounts', headers: realHeaders });
    expect(removed.statusCode, removed.body).toBe(200);
    const emails = removed.json<{ removed: Array<{ email: string }> }>().removed.map((u) => u.email);
    expect(emails).toContain('admin@demo.samplebank.test');
    expect(emails.every((email) => email.endsWith('@demo.samplebank.test'))).toBe(true);
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/demo' })).json()).toMatchObject({ accounts: 0 });

    // Nobody signs in with the published password any more, and the sessions already open are gone.
    for (const email of ['admin@demo.samplebank.test', 'applicant@demo.samplebank.test', 'pathology-curator@demo.samplebank.test']) {
      const login = await server.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'demo-password' } });
      expect(login.statusCode, email).toBe(401);
    }
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/me', headers: applicant })).statusCode).toBe(401);
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/me', headers: demoAdmin })).statusCode).toBe(401);

    // The records stay: the statistics still count the batch, the trail names each removal and verifies.
    const stats = await server.app.inject({ method: 'GET', url: `/api/v1/calls/${demo.lunar.firstCallId}/statistics`, headers: realHeaders });
    expect(stats.json()).toMatchObject({ applications: FIRST_BATCH.applications, approved: FIRST_BATCH.approved });
    const events = await server.app.inject({ method: 'GET', url: '/api/v1/audit/events?action=user.retire&limit=200', headers: realHeaders });
    expect(events.json<{ items: unknown[] }>().items).toHaveLength(emails.length);
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: realHeaders })).json()).toMatchObject({ ok: true });

    // Removing again finds nothing to remove.
    const again = await server.app.inject({ method: 'DELETE', url: '/api/v1/demo/accounts', headers: realHeaders });
    expect(again.json()).toEqual({ removed: [] });
  });
});
