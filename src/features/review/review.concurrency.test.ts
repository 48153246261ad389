import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { applicationBody, buildWorld, json, newApplicant, openCall, submitApplication, type World } from '../calls/calls.testkit.js';

describe(`calls, applications and review under concurrency on ${engine}`, () => {
  let server: TestServer;
  let world: World;
  beforeAll(async () => {
    server = await createTestServer();
    world = await buildWorld(server.app, server.context, { reviewers: 5 });
  });
  afterAll(async () => server?.close());

  const transition = (id: string, to: string) => server.app.inject({ method: 'POST', url: `/api/v1/calls/${id}/transitions`, headers: world.chair.headers, payload: { to } });

  it('lets a submission racing the close either land before it or be refused, never slip in after', async () => {
    const callId = await openCall(server.app, world);
    const applicants = await Promise.all(Array.from({ length: 8 }, () => newApplicant(server.app, server.context)));
    const drafts = await Promise.all(
      applicants.map(async (a) => ({ who: a, id: json<{ id: string }>(await server.app.inject({ method: 'POST', url: '/api/v1/applications', headers: a.headers, payload: applicationBody(callId) }), 201).id })),
    );
    const submits = drafts.map((d) => server.app.inject({ method: 'POST', url: `/api/v1/applications/${d.id}/submit`, headers: d.who.headers }));
    const [closed, ...answers] = await Promise.all([transition(callId, 'closed'), ...submits]);
    expect(closed.statusCode).toBe(200);
    const accepted = answers.filter((r) => r.statusCode === 200).length;
    expect(answers.every((r) => r.statusCode === 200 || (r.statusCode === 409 && r.json().type === 'deadline-passed'))).toBe(true);
    const rows = await server.context.handle.db.selectFrom('applications').select(['state']).where('call_id', '=', callId).execute();
    expect(rows.filter((r) => r.state === 'submitted')).toHaveLength(accepted);
    json(await transition(callId, 'in_review'), 200);
    const after = await server.context.handle.db.selectFrom('applications').select(['state']).where('call_id', '=', callId).execute();
    expect(after.filter((r) => r.state === 'in_review')).toHaveLength(accepted);
    expect(after.filter((r) => r.state === 'submitted')).toHaveLength(0);
  });

  it('never over-assigns when the chair runs automatic assignment twice at once', async () => {
    const callId = await openCall(server.app, world);
    for (let i = 0; i < 4; i++) await submitApplication(server.app, await newApplicant(server.app, server.context), callId);
    json(await transition(callId, 'closed'), 200);
    const run = () => server.app.inject({ method: 'POST', url: `/api/v1/calls/${callId}/assignments/auto`, headers: world.chair.headers, payload: { perApplication: 2 } });
    const results = await Promise.all([run(), run(), run()]);
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(results.reduce((sum, r) => sum + (r.json() as { assigned: number }).assigned, 0)).toBe(8);
    const reviews = await server.context.handle.db.selectFrom('reviews').select(['application_id']).where('call_id', '=', callId).execute();
    expect(reviews).toHaveLength(8);
  });

  it('settles a decision racing a withdrawal on one consistent outcome', async () => {
    const callId = await openCall(server.app, world);
    const applicant = await newApplicant(server.app, server.context);
    const appId = await submitApplication(server.app, applicant, callId);
    json(await transition(callId, 'closed'), 200);
    json(await transition(callId, 'in_review'), 200);
    const [decided, withdrawn] = await Promise.all([
      server.app.inject({ method: 'POST', url: `/api/v1/applications/${appId}/decision`, headers: world.chair.headers, payload: { outcome: 'approved', rationale: 'ok' } }),
      server.app.inject({ method: 'POST', url: `/api/v1/applications/${appId}/withdraw`, headers: applicant.headers }),
    ]);
    expect([decided.statusCode, withdrawn.statusCode]).toContain(200);
    const row = await server.context.handle.db.selectFrom('applications').select(['state', 'decision', 'withdrawn_at']).where('id', '=', appId).executeTakeFirstOrThrow();
    if (withdrawn.statusCode === 200) expect(row.state).toBe('withdrawn');
    else expect(row).toMatchObject({ state: 'approved', decision: 'approved', withdrawn_at: null });
    const events = await server.context.handle.db.selectFrom('audit_events').select('action').where('entity_id', '=', appId).execute();
    expect(events.filter((e) => e.action === 'application.withdraw')).toHaveLength(withdrawn.statusCode === 200 ? 1 : 0);
  });
  it('assigns a reviewer once when two chairs assign the same one at once, and never 500s', async () => {
    const callId = await openCall(server.app, world);
    const appId = await submitApplication(server.app, await newApplicant(server.app, server.context), callId);
    json(await transition(callId, 'closed'), 200);
    const reviewerId = world.reviewers[0]!.user.id;
    const answers = await Promise.all(Array.from({ length: 4 }, () => server.app.inject({ method: 'POST', url: `/api/v1/applications/${appId}/reviews`, headers: world.chair.headers, payload: { reviewerId } })));
    expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(1);
    expect(answers.filter((r) => r.statusCode === 409 && r.json().type === 'duplicate')).toHaveLength(3);
    const rows = await server.context.handle.db.selectFrom('reviews').select('id').where('application_id', '=', appId).execute();
    expect(rows).toHaveLength(1);
  });

  it('tells the chair exactly once that all reviews are in when the last reviewers submit together', async () => {
    const callId = await openCall(server.app, world);
    const appId = await submitApplication(server.app, await newApplicant(server.app, server.context), callId);
    json(await transition(callId, 'closed'), 200);
    const reviewers = world.reviewers.slice(0, 4);
    const reviewIds: string[] = [];
    for (const r of reviewers) reviewIds.push(json<{ id: string }>(await server.app.inject({ method: 'POST', url: `/api/v1/applications/${appId}/reviews`, headers: world.chair.headers, payload: { reviewerId: r.user.id } }), 201).id);
    json(await transition(callId, 'in_review'), 200);
    const body = { scores: [{ criterion: 'merit', score: 4 }, { criterion: 'feasibility', score: 3 }] };
    const answers = await Promise.all(reviewers.map((r, i) => server.app.inject({ method: 'PUT', url: `/api/v1/reviews/${reviewIds[i]}`, headers: r.headers, payload: body })));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    expect(answers.filter((r) => (r.json() as { allReviewsIn: boolean }).allReviewsIn)).toHaveLength(1);
    const notes = await server.context.handle.db.selectFrom('notifications').select('id').where('kind', '=', 'review.all-in').where('entity_id', '=', callId).execute();
    expect(notes).toHaveLength(1);
  });

  it('never decides a call while a decision on one of its applications is still landing', async () => {
    const callId = await openCall(server.app, world);
    const ids = [await submitApplication(server.app, await newApplicant(server.app, server.context), callId), await submitApplication(server.app, await newApplicant(server.app, server.context), callId)];
    json(await transition(callId, 'closed'), 200);
    json(await transition(callId, 'in_review'), 200);
    json(await server.app.inject({ method: 'POST', url: `/api/v1/applications/${ids[0]}/decision`, headers: world.chair.headers, payload: { outcome: 'approved', rationale: 'ok' } }), 200);
    const [decision, decided] = await Promise.all([
      server.app.inject({ method: 'POST', url: `/api/v1/applications/${ids[1]}/decision`, headers: world.chair.headers, payload: { outcome: 'rejected', rationale: 'no' } }),
      transition(callId, 'decided'),
    ]);
    expect(decision.statusCode).toBe(200);
    const call = await server.context.handle.db.selectFrom('calls').select('state').where('id', '=', callId).executeTakeFirstOrThrow();
    const undecided = await server.context.handle.db.selectFrom('applications').select('id').where('call_id', '=', callId).where('state', '=', 'in_review').execute();
    expect(undecided).toHaveLength(0);
    if (decided.statusCode === 200) expect(call.state).toBe('decided');
    else {
      expect(decided.json().type).toBe('invalid-state');
      expect(call.state).toBe('in_review');
    }
  });

  it('settles a reviewer declaring a conflict while scoring on one outcome: a recused review never counts', async () => {
    const callId = await openCall(server.app, world);
    const appId = await submitApplication(server.app, await newApplicant(server.app, server.context), callId);
    json(await transition(callId, 'closed'), 200);
    const reviewer = world.reviewers[1]!;
    const review = json<{ id: string }>(await server.app.inject({ method: 'POST', url: `/api/v1/applications/${appId}/reviews`, headers: world.chair.headers, payload: { reviewerId: reviewer.user.id } }), 201);
    json(await transition(callId, 'in_review'), 200);
    const [scored, declared] = await Promise.all([
      server.app.inject({ method: 'PUT', url: `/api/v1/reviews/${review.id}`, headers: reviewer.headers, payload: { scores: [{ criterion: 'merit', score: 5 }, { criterion: 'feasibility', score: 5 }] } }),
      server.app.inject({ method: 'POST', url: `/api/v1/applications/${appId}/conflicts`, headers: reviewer.headers, payload: { reason: 'Former colleague' } }),
    ]);
    expect(declared.statusCode).toBe(204);
    expect([200, 404]).toContain(scored.statusCode);
    const row = await server.context.handle.db.selectFrom('reviews').select(['state', 'submitted_at']).where('id', '=', review.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'recused', submitted_at: null });
    expect((await server.context.services.review.ranking(callId)).items).toEqual([]);
  });
});
