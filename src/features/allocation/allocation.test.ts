import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { problem, signIn, type SignedIn } from '../../../test/factories.js';
import { buildWorld, json, newApplicant, openCall, seedSample, submitApplication, type Applicant, type World } from '../calls/calls.testkit.js';

interface Piece {
  sampleId: string;
  sampleIdentifier: string;
  quantity: string;
  childSampleId: string | null;
  childIdentifier: string | null;
  reservationId: string | null;
}
interface Item {
  kind: string;
  requested: string;
  minimum: string;
  allocated: string;
  outcome: string;
  reason: string;
  params: Record<string, string | number>;
  explanation: string;
  pieces: Piece[];
}
interface Allocation {
  id: string;
  callId: string;
  state: string;
  solver: string;
  fallbackReason: string | null;
  edited: boolean;
  objective: number;
  rules: { minCut: string; maxPieces: number; institutionCap: { perKind: string | null; total: string | null } };
  totals: { allocated: string; byKind: Array<{ kind: string; releasable: string; allocated: string }> };
  applications: Array<{ applicationId: string; institutionId: string; rank: number; outcome: string; explanation: string; items: Item[] }>;
  verification: { ok: boolean; checkedAgainst: string; violations: Array<{ code: string; message: string }> } | null;
}

const units = (decimal: string) => BigInt(decimal.replace('.', ''));

describe(`allocation on ${engine}`, () => {
  let server: TestServer;
  let world: World;
  let applicants: Applicant[];
  let reviewer: SignedIn;
  let applicant: SignedIn;

  beforeAll(async () => {
    server = await createTestServer();
    world = await buildWorld(server.app, server.context, { reviewers: 1 });
    applicants = [];
    for (let i = 0; i < 4; i++) applicants.push(await newApplicant(server.app, server.context));
    reviewer = world.reviewers[0]!;
    applicant = applicants[0]!;
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);
  const as = (who: SignedIn, method: InjectOptions['method'], url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    inject({ method, url: `/api/v1${url}`, headers: { ...who.headers, ...headers }, ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }) });
  const transition = async (callId: string, to: string) => json(await as(world.chair, 'POST', `/calls/${callId}/transitions`, { to }), 200);

  /** A decided call whose applications (one per entry) are all approved. */
  async function decidedCall(requests: Array<{ who: Applicant; items: Array<{ kind: string; quantity: string; minimum?: string }> }>, overrides: Record<string, unknown> = {}, target: World = world) {
    const callId = await openCall(server.app, target, overrides);
    const ids: string[] = [];
    for (const r of requests) ids.push(await submitApplication(server.app, r.who, callId, { items: r.items }));
    await transition(callId, 'closed');
    await transition(callId, 'in_review');
    for (const id of ids) json(await as(world.chair, 'POST', `/applications/${id}/decision`, { outcome: 'approved', rationale: 'Strong case' }), 200);
    await transition(callId, 'decided');
    return { callId, ids };
  }

  const sample = async (id: string) => (await server.context.handle.db.selectFrom('samples').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
  const movements = async () => Number((await server.context.handle.db.selectFrom('movements').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

  it('proposes, explains, edits with live checks, approves and executes once', async () => {
    // Pool: scooped 100 g + 60 g, drilled 40 g; reserve 75% → releasable scooped 40 g, drilled 10 g.
    const { callId, ids } = await decidedCall([
      { who: applicants[0]!, items: [{ kind: 'scooped', quantity: '15', minimum: '5' }, { kind: 'drilled', quantity: '4', minimum: '2' }] },
      { who: applicants[1]!, items: [{ kind: 'scooped', quantity: '20', minimum: '10' }] },
      { who: applicants[2]!, items: [{ kind: 'scooped', quantity: '12', minimum: '8' }, { kind: 'drilled', quantity: '8', minimum: '7' }] },
      { who: applicants[3]!, items: [{ kind: 'scooped', quantity: '6', minimum: '6' }] },
    ]);
    const proposed = json<Allocation>(await as(world.chair, 'POST', `/calls/${callId}/allocations`, { minCut: '0.5', institutionCap: { perKind: '18' } }), 201);
    expect(proposed).toMatchObject({ state: 'draft', solver: 'highs', fallbackReason: null, verification: { ok: true, checkedAgainst: 'inventory-now', violations: [] } });
    expect(proposed.rules).toEqual({ minCut: '0.5000', maxPieces: 2, institutionCap: { perKind: '18.0000', total: null } });
    const byKind = Object.fromEntries(proposed.totals.byKind.map((k) => [k.kind, k]));
    expect(byKind.scooped!.releasable).toBe('40.0000');
    expect(byKind.drilled!.releasable).toBe('10.0000');
    // Every rule holds in what the chair sees.
    for (const k of proposed.totals.byKind) expect(units(k.allocated) <= units(k.releasable)).toBe(true);
    for (const a of proposed.applications) {
      for (const item of a.items) {
        const got = units(item.allocated);
        expect(got === 0n || (got >= units(item.minimum) && got <= units(item.requested))).toBe(true);
        expect(got <= 180_000n).toBe(true);
        expect(item.pieces.reduce((s, p) => s + units(p.quantity), 0n)).toBe(got);
        for (const p of item.pieces) expect(units(p.quantity) >= 5000n).toBe(true);
        expect(item.explanation.length).toBeGreaterThan(0);
        expect(['full', 'not-offered', 'kind-exhausted', 'institution-cap', 'cutting', 'outweighed']).toContain(item.reason);
      }
    }
    // 53 g of scooped asked, 40 g offered: someone gets less, and is told why.
    const short = proposed.applications.flatMap((a) => a.items).filter((i) => i.kind === 'scooped' && i.outcome !== 'full');
    expect(short.length).toBeGreaterThan(0);
    expect(short[0]!.explanation).toMatch(/^(received \d+% of the request|nothing)/);

    // Live check: too much from one sample is reported, nothing is saved.
    const first = proposed.applications.find((a) => a.applicationId === ids[0])!;
    const scoopedSample = world.samples.scooped[0]!;
    const greedyEdit = { items: [{ applicationId: ids[0], kind: 'drilled', pieces: [{ sampleId: world.samples.drilled[0], quantity: '4' }] }, { applicationId: ids[2], kind: 'drilled', pieces: [{ sampleId: world.samples.drilled[0], quantity: '8' }] }] };
    const checked = json<{ ok: boolean; violations: Array<{ code: string; message: string }> }>(await as(world.chair, 'POST', `/allocations/${proposed.id}/check`, greedyEdit), 200);
    expect(checked.ok).toBe(false);
    expect(checked.violations.map((v) => v.code)).toContain('kind-exceeded');
    expect(checked.violations.find((v) => v.code === 'kind-exceeded')!.message).toBe('kind drilled: 12.0000 g allocated, 10.0000 g releasable');
    const unchanged = json<Allocation>(await as(world.chair, 'GET', `/allocations/${proposed.id}`), 200);
    expect(unchanged.applications).toEqual(proposed.applications);
    // Saving an edit that breaks a rule is refused naming the item.
    const refused = problem(await as(world.chair, 'PATCH', `/allocations/${proposed.id}`, { items: [{ applicationId: ids[0], kind: 'scooped', pieces: [{ sampleId: scoopedSample, quantity: '2' }] }] }), 400, 'validation-failed');
    expect(refused.errors[0]).toMatchObject({ field: 'items.0', message: expect.stringMatching(/below the minimum useful quantity/) });

    // A valid edit: the first application takes exactly 5 g of scooped from one sample.
    const edited = json<Allocation>(await as(world.chair, 'PATCH', `/allocations/${proposed.id}`, { items: [{ applicationId: ids[0], kind: 'scooped', pieces: [{ sampleId: scoopedSample, quantity: '5' }] }] }), 200);
    expect(edited).toMatchObject({ state: 'draft', edited: true, verification: { ok: true } });
    const editedItem = edited.applications.find((a) => a.applicationId === ids[0])!.items.find((i) => i.kind === 'scooped')!;
    expect(editedItem).toMatchObject({ allocated: '5.0000', outcome: 'partial', pieces: [{ sampleId: scoopedSample, quantity: '5.0000' }] });
    expect(first.items.length).toBe(2);

    // Approve; executing needs an approved allocation; a curator executes.
    problem(await as(world.curator, 'POST', `/allocations/${proposed.id}/execute`), 409, 'invalid-state');
    json<Allocation>(await as(world.chair, 'POST', `/allocations/${proposed.id}/approve`), 200);
    const before = await movements();
    const parentBefore = await sample(scoopedSample);
    const key = { 'idempotency-key': `exec-${proposed.id}` };
    const executed = json<Allocation>(await as(world.curator, 'POST', `/allocations/${proposed.id}/execute`, undefined, key), 200);
    expect(executed).toMatchObject({ state: 'executed', verification: { ok: true, checkedAgainst: 'inventory-at-execution' } });
    const pieces = executed.applications.flatMap((a) => a.items.flatMap((i) => i.pieces.map((p) => ({ ...p, applicationId: a.applicationId }))));
    expect(pieces.length).toBeGreaterThan(0);
    const db = server.context.handle.db;
    for (const p of pieces) {
      expect(p.childSampleId).not.toBeNull();
      expect(p.childIdentifier!.startsWith(p.sampleIdentifier.split(',')[0]!)).toBe(true);
      const child = await sample(p.childSampleId!);
      expect({ parent: child.parent_id, quantity: child.quantity, reserved: child.reserved, state: child.state }).toEqual({ parent: p.sampleId, quantity: String(units(p.quantity)), reserved: String(units(p.quantity)), state: 'reserved' });
      const reservation = await db.selectFrom('reservations').selectAll().where('id', '=', p.reservationId!).executeTakeFirstOrThrow();
      expect(reservation).toMatchObject({ sample_id: p.childSampleId, application_id: p.applicationId, state: 'active' });
    }
    const fromParent = pieces.filter((p) => p.sampleId === scoopedSample).reduce((s, p) => s + units(p.quantity), 0n);
    expect(BigInt((await sample(scoopedSample)).quantity)).toBe(BigInt(parentBefore.quantity) - fromParent);
    const afterFirst = await movements();
    expect(afterFirst).toBeGreaterThan(before);
    for (const a of executed.applications) {
      const state = json<{ state: string }>(await as(world.chair, 'GET', `/applications/${a.applicationId}`), 200).state;
      expect(state).toBe(a.items.some((i) => units(i.allocated) > 0n) ? 'allocated' : 'approved');
    }
    const audit = await db.selectFrom('audit_events').select('action').where('entity_id', '=', proposed.id).orderBy('seq').execute();
    expect(audit.map((e) => e.action)).toEqual(['allocation.propose', 'allocation.edit', 'allocation.approve', 'allocation.execute']);

    // Twice: the same answer, nothing more changes — with the same key, another key, or none.
    expect(json<Allocation>(await as(world.curator, 'POST', `/allocations/${proposed.id}/execute`, undefined, key), 200)).toEqual(executed);
    expect(json<Allocation>(await as(world.chair, 'POST', `/allocations/${proposed.id}/execute`, undefined, { 'idempotency-key': 'another' }), 200).state).toBe('executed');
    expect(json<Allocation>(await as(world.chair, 'POST', `/allocations/${proposed.id}/execute`), 200).applications).toEqual(executed.applications);
    expect(await movements()).toBe(afterFirst);
    problem(await as(world.chair, 'PATCH', `/allocations/${proposed.id}`, { items: [{ applicationId: ids[0], kind: 'scooped', pieces: [] }] }), 409, 'invalid-state');

    // The call's statistics count executed quantities as distributed, per kind.
    const stats = json<{ distributed: { quantity: string; unit: string; byKind: Record<string, string> } }>(await as(world.chair, 'GET', `/calls/${callId}/statistics`), 200);
    expect(stats.distributed).toEqual({ quantity: executed.totals.allocated, unit: 'g', byKind: Object.fromEntries(executed.totals.byKind.filter((k) => units(k.allocated) > 0n).map((k) => [k.kind, k.allocated])) });

    // In detail, by institution and by research direction (for the committee, not for applicants).
    const detail = json<{ quantity: string; byKind: Record<string, string>; byInstitution: Array<{ institutionId: string; quantity: string }>; byResearchDirection: Array<{ direction: string; quantity: string }> }>(
      await as(world.auditor, 'GET', `/calls/${callId}/distribution`),
      200,
    );
    expect({ quantity: detail.quantity, byKind: detail.byKind }).toEqual({ quantity: stats.distributed.quantity, byKind: stats.distributed.byKind });
    const perInstitution = new Map(executed.applications.map((a) => [a.institutionId, a.items.reduce((s, i) => s + units(i.allocated), 0n)]));
    for (const row of detail.byInstitution) expect(units(row.quantity)).toBe(perInstitution.get(row.institutionId));
    expect(detail.byResearchDirection).toEqual([{ direction: 'age of lunar volcanism', quantity: detail.quantity, byKind: detail.byKind }]);
    problem(await as(applicant, 'GET', `/calls/${callId}/distribution`), 403, 'forbidden');

    // A second round takes only what is left: approved applications that got nothing, within the rest of the offer.
    const rest = await as(world.chair, 'POST', `/calls/${callId}/allocations`, {});
    if (executed.applications.every((a) => a.items.some((i) => units(i.allocated) > 0n))) problem(rest, 409, 'invalid-state');
    else {
      const round = json<Allocation>(rest, 201);
      for (const k of round.totals.byKind) expect(units(k.releasable)).toBe(units(byKind[k.kind]!.releasable) - units(executed.totals.byKind.find((e) => e.kind === k.kind)!.allocated));
    }
  });

  it('lets only the chair propose, edit and approve; the chair or a curator execute; auditors read', async () => {
    const { callId, ids } = await decidedCall([{ who: applicants[1]!, items: [{ kind: 'drilled', quantity: '1', minimum: '1' }] }]);
    const auditor = world.auditor;
    for (const who of [applicant, reviewer, world.curator, auditor]) problem(await as(who, 'POST', `/calls/${callId}/allocations`, {}), 403, 'forbidden');
    problem(await inject({ method: 'POST', url: `/api/v1/calls/${callId}/allocations`, payload: {} }), 401, 'unauthenticated');
    const proposed = json<Allocation>(await as(world.chair, 'POST', `/calls/${callId}/allocations`, {}), 201);
    for (const who of [world.chair, world.curator, auditor]) json(await as(who, 'GET', `/allocations/${proposed.id}`), 200);
    for (const who of [applicant, reviewer]) {
      problem(await as(who, 'GET', `/allocations/${proposed.id}`), 403, 'forbidden');
      problem(await as(who, 'GET', `/calls/${callId}/allocations`), 403, 'forbidden');
    }
    expect(json<{ items: Array<{ id: string }> }>(await as(auditor, 'GET', `/calls/${callId}/allocations`), 200).items.map((i) => i.id)).toContain(proposed.id);
    const edit = { items: [{ applicationId: ids[0], kind: 'drilled', pieces: [] }] };
    for (const who of [applicant, reviewer, world.curator, auditor]) {
      problem(await as(who, 'PATCH', `/allocations/${proposed.id}`, edit), 403, 'forbidden');
      problem(await as(who, 'POST', `/allocations/${proposed.id}/check`, edit), 403, 'forbidden');
      problem(await as(who, 'POST', `/allocations/${proposed.id}/approve`), 403, 'forbidden');
    }
    json(await as(world.chair, 'POST', `/allocations/${proposed.id}/approve`), 200);
    for (const who of [applicant, reviewer, auditor]) problem(await as(who, 'POST', `/allocations/${proposed.id}/execute`), 403, 'forbidden');
    expect(json<Allocation>(await as(world.chair, 'POST', `/allocations/${proposed.id}/execute`), 200).state).toBe('executed');
  });

  it('proposes in the background as a job with progress when asked to respond async', async () => {
    const { callId } = await decidedCall([{ who: applicants[0]!, items: [{ kind: 'scooped', quantity: '3', minimum: '1' }] }]);
    const async = { prefer: 'respond-async' };
    // Refusals still answer at once.
    problem(await as(applicant, 'POST', `/calls/${callId}/allocations`, {}, async), 403, 'forbidden');
    expect(problem(await as(world.chair, 'POST', `/calls/${callId}/allocations`, { minCut: '0' }, async), 400, 'invalid-quantity').errors[0]!.field).toBe('minCut');
    const accepted = await as(world.chair, 'POST', `/calls/${callId}/allocations`, {}, async);
    const { jobId } = json<{ jobId: string }>(accepted, 202);
    expect(accepted.headers.location).toBe(`/api/v1/jobs/${jobId}`);
    let job: { state: string; done: number; total: number | null; result: { allocationId: string; solver: string } | null } | undefined;
    for (let i = 0; i < 240; i++) {
      job = json(await as(world.chair, 'GET', `/jobs/${jobId}`), 200);
      if (job!.state === 'succeeded' || job!.state === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(job).toMatchObject({ state: 'succeeded', done: 97, total: 100, result: { solver: 'highs' } });
    const made = json<Allocation>(await as(world.chair, 'GET', `/allocations/${job!.result!.allocationId}`), 200);
    expect(made).toMatchObject({ callId, state: 'draft', totals: { allocated: '3.0000' } });
    // Someone else's job does not exist for them.
    problem(await as(applicant, 'GET', `/jobs/${jobId}`), 404, 'not-found');
  });

  it('refuses bad input naming the field, and unknown or unready things', async () => {
    const { callId, ids } = await decidedCall([{ who: applicants[2]!, items: [{ kind: 'scooped', quantity: '2', minimum: '1' }] }]);
    const bad = async (body: unknown, status: number, type: string) => problem(await as(world.chair, 'POST', `/calls/${callId}/allocations`, body), status, type).errors[0]!.field;
    expect(await bad({ minCut: '0.00001' }, 400, 'invalid-quantity')).toBe('minCut');
    expect(await bad({ minCut: '-1' }, 400, 'invalid-quantity')).toBe('minCut');
    expect(await bad({ maxPieces: 9 }, 400, 'validation-failed')).toMatch(/maxPieces/);
    expect(await bad({ institutionCap: { perKind: 'lots' } }, 400, 'invalid-quantity')).toBe('institutionCap.perKind');
    expect(await bad({ surprise: true }, 400, 'validation-failed')).toBeDefined();
    problem(await as(world.chair, 'POST', `/calls/00000000-0000-4000-8000-000000000000/allocations`, {}), 404, 'not-found');
    problem(await as(world.chair, 'POST', `/calls/not-a-uuid/allocations`, {}), 400, 'validation-failed');
    problem(await as(world.chair, 'GET', `/allocations/00000000-0000-4000-8000-000000000000`), 404, 'not-found');
    // A call still open has nothing approved to allocate.
    const open = await openCall(server.app, world);
    problem(await as(world.chair, 'POST', `/calls/${open}/allocations`, {}), 409, 'invalid-state');

    const proposed = json<Allocation>(await as(world.chair, 'POST', `/calls/${callId}/allocations`, {}), 201);
    const edit = (items: unknown) => as(world.chair, 'PATCH', `/allocations/${proposed.id}`, { items });
    expect(problem(await edit([{ applicationId: ids[0], kind: 'drilled', pieces: [] }]), 400, 'validation-failed').errors[0]!.field).toBe('items.0');
    expect(problem(await edit([{ applicationId: ids[0], kind: 'scooped', pieces: [{ sampleId: world.samples.scooped[0], quantity: '1.00001' }] }]), 400, 'invalid-quantity').errors[0]!.field).toBe('items.0.pieces.0.quantity');
    expect(problem(await edit([{ applicationId: ids[0], kind: 'scooped', pieces: [{ sampleId: world.samples.drilled[0], quantity: '1' }] }]), 400, 'validation-failed').errors[0]!.field).toBe('items.0.pieces.0');
    expect(problem(await edit([]), 400, 'validation-failed').errors[0]!.field).toMatch(/items/);
  });

  it('refuses to execute, changing nothing, when the inventory changed since approval', async () => {
    // Two calls offer the same 10 g sample in full; each approves 8 g. Whoever executes second finds 2 g.
    const shared = await seedSample(server.context, world.collectionId, 'scooped', 100_000n);
    const other = await newApplicant(server.app, server.context);
    const only = { ...world, samples: { scooped: [shared], drilled: [] } };
    const a = await decidedCall([{ who: applicants[3]!, items: [{ kind: 'scooped', quantity: '8', minimum: '8' }] }], { reserveFraction: '0' }, only);
    const b = await decidedCall([{ who: other, items: [{ kind: 'scooped', quantity: '8', minimum: '8' }] }], { reserveFraction: '0' }, only);
    const ready = async (callId: string, expected = '8.0000') => {
      const p = json<Allocation>(await as(world.chair, 'POST', `/calls/${callId}/allocations`, {}), 201);
      expect(p.applications[0]!.items[0]!.allocated).toBe(expected);
      json(await as(world.chair, 'POST', `/allocations/${p.id}/approve`), 200);
      return p.id;
    };
    const first = await ready(a.callId);
    const second = await ready(b.callId);
    const otherChair = await signIn(server.app, server.context, ['chair']);
    const before = await movements();
    // Two chairs at once (concurrent on PostgreSQL; one after the other on PGlite's single connection).
    const answers: LightMyRequestResponse[] = await Promise.all([as(world.chair, 'POST', `/allocations/${first}/execute`), as(otherChair, 'POST', `/allocations/${second}/execute`)]);
    const statuses = answers.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 409]);
    const lost = answers.find((r) => r.statusCode === 409)!;
    const body = problem(lost, 409, 'conflict');
    expect(body.detail).toMatch(/^The inventory changed since this allocation was approved; nothing was split or reserved\. sample .+: 8\.0000 g taken, 2\.0000 g releasable$/);
    const s = await sample(shared);
    expect({ quantity: s.quantity, reserved: s.reserved }).toEqual({ quantity: '20000', reserved: '0' });
    const children = await server.context.handle.db.selectFrom('samples').selectAll().where('parent_id', '=', shared).execute();
    expect(children.map((c) => [c.quantity, c.reserved])).toEqual([['80000', '80000']]);
    // Only the winner's split and reservation were written.
    expect(await movements()).toBe(before + 3);
    // The same allocation executed by two people at once is split and reserved once.
    const again = await decidedCall([{ who: other, items: [{ kind: 'scooped', quantity: '1', minimum: '1' }] }], { reserveFraction: '0' }, only);
    const third = await ready(again.callId, '1.0000');
    const beforeThird = await movements();
    const both = await Promise.all([as(world.chair, 'POST', `/allocations/${third}/execute`), as(world.curator, 'POST', `/allocations/${third}/execute`)]);
    expect(both.map((r) => r.statusCode)).toEqual([200, 200]);
    expect(both[0]!.json()).toEqual(both[1]!.json());
    expect(await movements()).toBe(beforeThird + 3);
    expect((await sample(shared)).quantity).toBe('10000');

    const loser = answers[0]!.statusCode === 409 ? first : second;
    const state = json<Allocation>(await as(world.chair, 'GET', `/allocations/${loser}`), 200);
    expect(state.state).toBe('approved');
    expect(state.verification!.ok).toBe(false);
  });
});
