import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { problem, signIn, type SignedIn } from '../../../test/factories.js';
import { applicationBody, buildWorld, callBody, hours, json, newApplicant, openCall, seedCollection, seedSample, type World } from './calls.testkit.js';

interface Call {
  id: string;
  state: string;
  reserveFraction: string;
  panel?: string[];
}
interface Pool {
  kinds: Array<{ kind: string; total: string; releasable: string; reserve: string; samples?: unknown[] }>;
}

describe(`calls on ${engine}`, () => {
  let server: TestServer;
  let world: World;
  let applicant: SignedIn;
  beforeAll(async () => {
    server = await createTestServer();
    world = await buildWorld(server.app, server.context);
    applicant = await newApplicant(server.app, server.context);
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);
  const transition = (id: string, to: string, who: SignedIn = world.chair) => inject({ method: 'POST', url: `/api/v1/calls/${id}/transitions`, headers: who.headers, payload: { to } });
  const auditActions = async (id: string) =>
    (await server.context.handle.db.selectFrom('audit_events').select('action').where('entity_id', '=', id).orderBy('occurred_at').orderBy('seq').execute()).map((r) => r.action);

  it('lets a chair create a draft call with the default 75% reserve, and nobody else', async () => {
    const { reserveFraction: _drop, ...body } = callBody(world) as Record<string, unknown>;
    const created = json<Call>(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: body }), 201);
    expect(created).toMatchObject({ state: 'draft', reserveFraction: '0.7500', blind: true });
    expect(created.panel).toEqual([...world.reviewers.map((r) => r.user.id)].sort());
    for (const who of [applicant, world.curator, world.reviewers[0]!, world.auditor]) {
      problem(await inject({ method: 'POST', url: '/api/v1/calls', headers: who.headers, payload: callBody(world) }), 403, 'forbidden');
    }
    problem(await inject({ method: 'POST', url: '/api/v1/calls', payload: callBody(world) }), 401, 'unauthenticated');
  });

  it('refuses bad calls naming the field, and creates nothing', async () => {
    const before = (await inject({ method: 'GET', url: '/api/v1/calls?limit=200', headers: world.chair.headers })).json().items.length;
    expect(problem(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world, { closesAt: hours(-2) }) }), 400, 'validation-failed').errors[0]!.field).toBe('closesAt');
    expect(problem(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world, { reserveFraction: '1.5' }) }), 400, 'validation-failed').errors[0]!.field).toBe('reserveFraction');
    const twice = { scaleMin: 1, scaleMax: 5, criteria: [{ key: 'merit', name: 'A', weight: 1 }, { key: 'merit', name: 'B', weight: 1 }] };
    expect(problem(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world, { rubric: twice }) }), 400).errors[0]!.field).toBe('rubric.criteria.1.key');
    const notReviewer = await signIn(server.app, server.context, ['applicant']);
    expect(problem(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world, { panel: [notReviewer.user.id] }) }), 400).errors[0]!.field).toBe('panel.0');
    const after = (await inject({ method: 'GET', url: '/api/v1/calls?limit=200', headers: world.chair.headers })).json().items.length;
    expect(after).toBe(before);
  });

  it('offers a pool per kind with the reserve kept back, set by a curator', async () => {
    const call = json<Call>(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world, { reserveFraction: '0.8' }) }), 201);
    const pool = json<Pool>(await inject({ method: 'PUT', url: `/api/v1/calls/${call.id}/pool`, headers: world.curator.headers, payload: { sampleIds: [...world.samples.scooped, ...world.samples.drilled] } }), 200);
    expect(pool.kinds.map((k) => [k.kind, k.total, k.releasable, k.reserve])).toEqual([
      ['drilled', '40.0000', '8.0000', '32.0000'],
      ['scooped', '160.0000', '32.0000', '128.0000'],
    ]);
    // Changing the reserve recomputes what may be released.
    json(await inject({ method: 'PATCH', url: `/api/v1/calls/${call.id}`, headers: world.chair.headers, payload: { reserveFraction: '0.75' } }), 200);
    const again = json<Pool>(await inject({ method: 'GET', url: `/api/v1/calls/${call.id}/pool`, headers: world.chair.headers }), 200);
    expect(again.kinds.find((k) => k.kind === 'scooped')!.releasable).toBe('40.0000');

    problem(await inject({ method: 'PUT', url: `/api/v1/calls/${call.id}/pool`, headers: applicant.headers, payload: { sampleIds: [] } }), 403, 'forbidden');
    problem(await inject({ method: 'PUT', url: `/api/v1/calls/${call.id}/pool`, headers: world.reviewers[0]!.headers, payload: { sampleIds: [] } }), 403, 'forbidden');
    const other = await seedSample(server.context, await seedCollection(server.context), 'scooped', 10n);
    expect(problem(await inject({ method: 'PUT', url: `/api/v1/calls/${call.id}/pool`, headers: world.curator.headers, payload: { sampleIds: [world.samples.drilled[0], other] } }), 400).errors[0]!.field).toBe('sampleIds.1');
    const quarantined = await seedSample(server.context, world.collectionId, 'scooped', 10n, 'quarantined');
    expect(problem(await inject({ method: 'PUT', url: `/api/v1/calls/${call.id}/pool`, headers: world.curator.headers, payload: { sampleIds: [quarantined] } }), 400).errors[0]!.message).toContain('quarantined');
    const unchanged = json<Pool>(await inject({ method: 'GET', url: `/api/v1/calls/${call.id}/pool`, headers: world.chair.headers }), 200);
    expect(unchanged.kinds).toHaveLength(2);
  });

  it('hides drafts from applicants and reviewers (404), and shows them sample-free pools once open', async () => {
    const draft = json<Call>(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world) }), 201);
    problem(await inject({ method: 'GET', url: `/api/v1/calls/${draft.id}`, headers: applicant.headers }), 404, 'not-found');
    problem(await inject({ method: 'GET', url: `/api/v1/calls/${draft.id}/pool`, headers: world.reviewers[0]!.headers }), 404, 'not-found');
    const list = json<{ items: Call[] }>(await inject({ method: 'GET', url: '/api/v1/calls?limit=200', headers: applicant.headers }), 200);
    expect(list.items.some((c) => c.id === draft.id)).toBe(false);
    expect(list.items.every((c) => c.state !== 'draft' && c.panel === undefined)).toBe(true);

    const open = await openCall(server.app, world);
    const seen = json<Call>(await inject({ method: 'GET', url: `/api/v1/calls/${open}`, headers: applicant.headers }), 200);
    expect(seen.state).toBe('open');
    expect(seen.panel).toBeUndefined();
    const pool = json<Pool>(await inject({ method: 'GET', url: `/api/v1/calls/${open}/pool`, headers: applicant.headers }), 200);
    expect(pool.kinds.every((k) => k.samples === undefined)).toBe(true);
    expect(json<Pool>(await inject({ method: 'GET', url: `/api/v1/calls/${open}/pool`, headers: world.curator.headers }), 200).kinds[0]!.samples).toBeDefined();
  });

  it('pages the list with a cursor', async () => {
    const first = json<{ items: Call[]; nextCursor: string | null }>(await inject({ method: 'GET', url: '/api/v1/calls?limit=1', headers: world.chair.headers }), 200);
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = json<{ items: Call[] }>(await inject({ method: 'GET', url: `/api/v1/calls?limit=1&cursor=${first.nextCursor}`, headers: world.chair.headers }), 200);
    expect(second.items[0]!.id).not.toBe(first.items[0]!.id);
  });

  it('walks draft → open → closed → in_review → decided → distributed → archived, refusing every other move, each audited', async () => {
    const call = json<Call>(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world) }), 201);
    const id = call.id;
    // A call without material cannot open.
    expect(problem(await transition(id, 'open'), 409, 'invalid-state').errors[0]!.field).toBe('pool');
    problem(await transition(id, 'closed'), 409, 'invalid-state');
    json(await inject({ method: 'PUT', url: `/api/v1/calls/${id}/pool`, headers: world.curator.headers, payload: { sampleIds: world.samples.drilled } }), 200);
    problem(await transition(id, 'open', world.curator), 403, 'forbidden');
    problem(await transition(id, 'open', applicant), 403, 'forbidden');

    const path = ['open', 'closed', 'in_review', 'decided', 'distributed', 'archived'];
    const all = ['draft', ...path];
    let current = 'draft';
    for (const next of path) {
      for (const wrong of all.filter((s) => s !== next)) {
        const refused = problem(await transition(id, wrong), 409, 'invalid-state');
        expect(refused.detail).toContain(`from ${current} to ${wrong}`);
      }
      expect(json<Call>(await transition(id, next), 200).state).toBe(next);
      current = next;
    }
    for (const wrong of all) problem(await transition(id, wrong), 409, 'invalid-state');
    const actions = await auditActions(id);
    expect(actions.filter((a) => a === 'call.transition')).toHaveLength(path.length);
    const transitions = await server.context.handle.db.selectFrom('audit_events').select('data').where('entity_id', '=', id).where('action', '=', 'call.transition').orderBy('seq').execute();
    expect(transitions.map((t) => (t.data as { to: string }).to)).toEqual(path);
  });

  it('freezes a call once open, except its deadlines', async () => {
    const id = await openCall(server.app, world);
    problem(await inject({ method: 'PATCH', url: `/api/v1/calls/${id}`, headers: world.chair.headers, payload: { title: 'Renamed' } }), 409, 'invalid-state');
    const moved = json<{ closesAt: string }>(await inject({ method: 'PATCH', url: `/api/v1/calls/${id}`, headers: world.chair.headers, payload: { closesAt: hours(48) } }), 200);
    expect(new Date(moved.closesAt).getTime()).toBeGreaterThan(Date.now() + 47 * 3600_000);
    problem(await inject({ method: 'PATCH', url: `/api/v1/calls/${id}`, headers: world.curator.headers, payload: { closesAt: hours(50) } }), 403, 'forbidden');
  });
  it('sets the panel: the chair only, reviewers only, never once decided', async () => {
    const id = json<Call>(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world, { panel: [] }) }), 201).id;
    const put = (who: SignedIn, reviewerIds: unknown) => inject({ method: 'PUT', url: `/api/v1/calls/${id}/panel`, headers: who.headers, payload: { reviewerIds } });
    const [r1, r2] = world.reviewers as [SignedIn, SignedIn];
    expect(json<Call>(await put(world.chair, [r2.user.id, r1.user.id, r1.user.id]), 200).panel).toEqual([r1.user.id, r2.user.id].sort());
    for (const who of [world.curator, applicant, r1, world.auditor]) problem(await put(who, [r1.user.id]), 403, 'forbidden');
    problem(await inject({ method: 'PUT', url: `/api/v1/calls/${id}/panel`, payload: { reviewerIds: [] } }), 401, 'unauthenticated');
    expect(problem(await put(world.chair, [r1.user.id, applicant.user.id]), 400, 'validation-failed').errors[0]!.field).toBe('reviewerIds.1');
    expect(problem(await put(world.chair, ['not-a-uuid']), 400, 'validation-failed').errors[0]!.field).toMatch(/^reviewerIds/);
    expect(problem(await put(world.chair, undefined), 400, 'validation-failed').errors[0]!.field).toMatch(/reviewerIds/);
    problem(await inject({ method: 'PUT', url: '/api/v1/calls/00000000-0000-4000-8000-000000000000/panel', headers: world.chair.headers, payload: { reviewerIds: [] } }), 404, 'not-found');
    // The refusals changed nothing.
    expect(json<Call>(await inject({ method: 'GET', url: `/api/v1/calls/${id}`, headers: world.chair.headers }), 200).panel).toEqual([r1.user.id, r2.user.id].sort());
    const auditCount = (await auditActions(id)).filter((a) => a === 'call.panel').length;
    expect(auditCount).toBe(1);

    json(await inject({ method: 'PUT', url: `/api/v1/calls/${id}/pool`, headers: world.curator.headers, payload: { sampleIds: world.samples.drilled } }), 200);
    for (const to of ['open', 'closed', 'in_review']) json(await transition(id, to), 200);
    // The panel may still grow while reviews go on.
    expect(json<Call>(await put(world.chair, [r1.user.id, r2.user.id, world.reviewers[2]!.user.id]), 200).panel).toHaveLength(3);
    json(await transition(id, 'decided'), 200);
    expect(problem(await put(world.chair, [r1.user.id]), 409, 'invalid-state').errors[0]!.field).toBe('state');
  });

  it('refuses bad edits naming the field, and leaves the call as it was', async () => {
    const created = json<Call & { closesAt: string; title: string }>(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world) }), 201);
    const patch = (payload: object, who: SignedIn = world.chair) => inject({ method: 'PATCH', url: `/api/v1/calls/${created.id}`, headers: who.headers, payload });
    const field = async (payload: object, status = 400) => problem(await patch(payload), status).errors[0]!.field;
    expect(await field({ closesAt: '2020-01-01T00:00:00Z' })).toBe('closesAt');
    expect(await field({ reviewDeadline: created.closesAt })).toBe('reviewDeadline');
    expect(await field({ closesAt: 'tomorrow' })).toBe('closesAt');
    expect(await field({ reserveFraction: '0.12345' })).toBe('reserveFraction');
    expect(await field({ rubric: { scaleMin: 5, scaleMax: 5, criteria: [{ key: 'merit', name: 'Merit', weight: 1 }] } })).toBe('rubric.scaleMax');
    expect(await field({ rubric: { criteria: [{ key: 'Merit!', name: 'Merit', weight: 1 }] } })).toBe('rubric.criteria.0.key');
    expect(await field({ rubric: { criteria: [{ key: 'merit', name: 'Merit', weight: 0 }] } })).toBe('rubric.criteria.0.weight');
    expect(await field({ eligibleInstitutionIds: ['00000000-0000-4000-8000-000000000000'] })).toBe('eligibleInstitutionIds.0');
    expect(await field({ reviewersPerApplication: 0 })).toBe('reviewersPerApplication');
    expect(await field({ colour: 'red' })).toBeDefined();
    problem(await patch({ title: 'Mine' }, applicant), 403, 'forbidden');
    problem(await inject({ method: 'PATCH', url: '/api/v1/calls/00000000-0000-4000-8000-000000000000', headers: world.chair.headers, payload: { title: 'x' } }), 404, 'not-found');
    const after = json<Call & { closesAt: string; title: string; rubric: { criteria: unknown[] } }>(await inject({ method: 'GET', url: `/api/v1/calls/${created.id}`, headers: world.chair.headers }), 200);
    expect(after).toMatchObject({ title: created.title, closesAt: created.closesAt, reserveFraction: '0.7500' });
    expect(after.rubric.criteria).toHaveLength(2);
    expect((await auditActions(created.id)).filter((a) => a === 'call.update')).toHaveLength(0);
    // A good edit: the rubric's weights and scale change while the call is a draft.
    const edited = json<{ rubric: { scaleMin: number; scaleMax: number; criteria: Array<{ key: string; weight: number }> } }>(
      await patch({ rubric: { scaleMin: 0, scaleMax: 10, criteria: [{ key: 'novelty', name: 'Novelty', weight: 2 }, { key: 'merit', name: 'Merit', weight: 5 }] } }),
      200,
    );
    expect(edited.rubric).toMatchObject({ scaleMin: 0, scaleMax: 10, criteria: [{ key: 'novelty', weight: 2 }, { key: 'merit', weight: 5 }] });
  });

  it('refuses transitions that are not states, and calls that do not exist', async () => {
    const id = json<Call>(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world) }), 201).id;
    expect(problem(await transition(id, 'finished'), 400, 'validation-failed').errors[0]!.field).toBe('to');
    problem(await transition('00000000-0000-4000-8000-000000000000', 'open'), 404, 'not-found');
    expect(problem(await inject({ method: 'GET', url: '/api/v1/calls/not-a-uuid', headers: world.chair.headers }), 400, 'validation-failed').errors[0]!.field).toBe('id');
    expect(problem(await inject({ method: 'GET', url: '/api/v1/calls?limit=0', headers: world.chair.headers }), 400, 'validation-failed').errors[0]!.field).toBe('limit');
    problem(await inject({ method: 'GET', url: '/api/v1/calls' }), 401, 'unauthenticated');
    expect(json<Call>(await inject({ method: 'GET', url: `/api/v1/calls/${id}`, headers: world.chair.headers }), 200).state).toBe('draft');
  });

  it('keeps who may apply: eligible institutions are checked and shown to applicants', async () => {
    const other = await newApplicant(server.app, server.context);
    const id = await openCall(server.app, world, { eligibleInstitutionIds: [other.institution.id] });
    expect(json<{ eligibleInstitutionIds: string[] }>(await inject({ method: 'GET', url: `/api/v1/calls/${id}`, headers: applicant.headers }), 200).eligibleInstitutionIds).toEqual([other.institution.id]);
    problem(await inject({ method: 'POST', url: '/api/v1/applications', headers: applicant.headers, payload: applicationBody(id) }), 403, 'forbidden');
    json(await inject({ method: 'POST', url: '/api/v1/applications', headers: other.headers, payload: applicationBody(id) }), 201);
  });
});
