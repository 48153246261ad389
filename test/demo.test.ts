/**
 * The demo is what a new user sees first: it must build through the real
 * services and show the published figures of the Chang'e-5 first batch.
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

describe('the lunar demo', () => {
  let server: TestServer;
  let demo: DemoResult;
  beforeAll(async () => {
    server = await createTestServer();
    demo = await loadDemo(server.context);
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

  it('keeps the audit chain intact after building everything', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: await signIn('auditor@demo.samplebank.test') });
    expect(response.json()).toMatchObject({ ok: true });
  });
});
