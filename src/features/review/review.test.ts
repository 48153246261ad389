import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { createInstitution, problem, signIn, type SignedIn } from '../../../test/factories.js';
import { buildWorld, json, newApplicant, openCall, pdfWithAuthor, submitApplication, type Applicant, type World } from '../calls/calls.testkit.js';

interface MyReview {
  id: string;
  applicationId: string;
  state: string;
}

const scores = (merit: number, feasibility = merit) => ({ scores: [{ criterion: 'merit', score: merit }, { criterion: 'feasibility', score: feasibility }], commentsForApplicant: 'Clear plan.', confidentialNotes: 'Lab is strong.' });

describe(`review on ${engine}`, () => {
  let server: TestServer;
  let world: World;
  beforeAll(async () => {
    server = await createTestServer();
    world = await buildWorld(server.app, server.context, { reviewers: 4 });
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);
  const transition = (id: string, to: string) => inject({ method: 'POST', url: `/api/v1/calls/${id}/transitions`, headers: world.chair.headers, payload: { to } });
  const assign = (applicationId: string, reviewerId: string, who: SignedIn = world.chair) => inject({ method: 'POST', url: `/api/v1/applications/${applicationId}/reviews`, headers: who.headers, payload: { reviewerId } });
  const myReviews = async (who: SignedIn, callId?: string) => json<{ items: MyReview[] }>(await inject({ method: 'GET', url: `/api/v1/reviews?limit=200${callId ? `&callId=${callId}` : ''}`, headers: who.headers }), 200).items;
  const reviewOf = async (who: SignedIn, applicationId: string) => (await myReviews(who)).find((r) => r.applicationId === applicationId);

  /** A panel that also holds a reviewer from the given institution. */
  async function callWithColleague(applicant: Applicant, overrides: Record<string, unknown> = {}) {
    const colleague = await signIn(server.app, server.context, ['reviewer'], applicant.institution.id);
    const id = await openCall(server.app, world, { panel: [...world.reviewers.map((r) => r.user.id), colleague.user.id], ...overrides });
    return { id, colleague };
  }

  it('assigns N reviewers per application automatically, balanced and never from the applicant’s institution', async () => {
    const applicants = [await newApplicant(server.app, server.context), await newApplicant(server.app, server.context), await newApplicant(server.app, server.context)];
    const { id: callId, colleague } = await callWithColleague(applicants[0]!);
    const apps: string[] = [];
    for (const a of applicants) apps.push(await submitApplication(server.app, a, callId));
    problem(await inject({ method: 'POST', url: `/api/v1/calls/${callId}/assignments/auto`, headers: world.chair.headers, payload: {} }), 409, 'invalid-state');
    json(await transition(callId, 'closed'), 200);
    problem(await inject({ method: 'POST', url: `/api/v1/calls/${callId}/assignments/auto`, headers: world.reviewers[0]!.headers, payload: {} }), 403, 'forbidden');
    const result = json<{ assigned: number; shortfalls: unknown[]; load: Array<{ reviewerId: string; reviews: number }> }>(
      await inject({ method: 'POST', url: `/api/v1/calls/${callId}/assignments/auto`, headers: world.chair.headers, payload: { perApplication: 3 } }),
      200,
    );
    expect(result.assigned).toBe(9);
    expect(result.shortfalls).toEqual([]);
    const loads = result.load.map((l) => l.reviews);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
    expect(loads.reduce((a, b) => a + b, 0)).toBe(9);
    const rows = await server.context.handle.db.selectFrom('reviews').select(['application_id', 'reviewer_id']).where('call_id', '=', callId).execute();
    expect(rows.filter((r) => r.application_id === apps[0] && r.reviewer_id === colleague.user.id)).toEqual([]);
    for (const app of apps) expect(rows.filter((r) => r.application_id === app)).toHaveLength(3);
    // Running it again assigns nothing more.
    expect(json<{ assigned: number }>(await inject({ method: 'POST', url: `/api/v1/calls/${callId}/assignments/auto`, headers: world.chair.headers, payload: { perApplication: 3 } }), 200).assigned).toBe(0);
    const notes = json<{ items: Array<{ kind: string }> }>(await inject({ method: 'GET', url: '/api/v1/notifications', headers: world.reviewers[0]!.headers }), 200);
    expect(notes.items.some((n) => n.kind === 'review.assigned')).toBe(true);
  });

  it('never lets a conflicted reviewer list, read or score an application', async () => {
    const applicant = await newApplicant(server.app, server.context);
    // Open review: a reviewer may name an institution after assignment (in a blind call, see below).
    const { id: callId, colleague } = await callWithColleague(applicant, { blind: false });
    const appId = await submitApplication(server.app, applicant, callId);
    const other = await submitApplication(server.app, await newApplicant(server.app, server.context), callId);
    json(await transition(callId, 'closed'), 200);
    // Same institution: refused by the service, and by the database.
    expect(problem(await assign(appId, colleague.user.id), 409, 'conflict-of-interest').errors[0]!.field).toBe('reviewerId');
    await expect(
      server.context.handle.db
        .insertInto('reviews')
        .values({ id: crypto.randomUUID(), call_id: callId, application_id: appId, application_institution_id: applicant.institution.id, reviewer_id: colleague.user.id, reviewer_institution_id: applicant.institution.id, assigned_by: null, assigned_how: 'manual' })
        .execute(),
    ).rejects.toThrow();
    problem(await inject({ method: 'GET', url: `/api/v1/applications/${appId}`, headers: colleague.headers }), 404, 'not-found');

    const [r1, r2] = world.reviewers as [SignedIn, SignedIn];
    json(await assign(appId, r1.user.id), 201);
    json(await assign(other, r1.user.id), 201);
    problem(await assign(appId, r1.user.id), 409, 'duplicate');
    problem(await assign(appId, r1.user.id, world.curator), 403, 'forbidden');
    json(await transition(callId, 'in_review'), 200);
    const review = (await reviewOf(r1, appId))!;
    expect(json<{ id: string }>(await inject({ method: 'GET', url: `/api/v1/applications/${appId}`, headers: r1.headers }), 200).id).toBe(appId);

    // r1 declares a conflict: the application disappears from every view at once.
    expect((await inject({ method: 'POST', url: `/api/v1/applications/${appId}/conflicts`, headers: r1.headers, payload: { reason: 'Former student of the applicant' } })).statusCode).toBe(204);
    problem(await inject({ method: 'GET', url: `/api/v1/applications/${appId}`, headers: r1.headers }), 404, 'not-found');
    const list = json<{ items: Array<{ id: string }> }>(await inject({ method: 'GET', url: `/api/v1/applications?limit=200&callId=${callId}`, headers: r1.headers }), 200);
    expect(list.items.map((a) => a.id)).toEqual([other]);
    expect((await myReviews(r1, callId)).map((r) => r.applicationId)).toEqual([other]);
    problem(await inject({ method: 'GET', url: `/api/v1/reviews/${review.id}`, headers: r1.headers }), 404, 'not-found');
    problem(await inject({ method: 'PUT', url: `/api/v1/reviews/${review.id}`, headers: r1.headers, payload: scores(5) }), 404, 'not-found');
    problem(await assign(appId, r1.user.id), 409, 'conflict-of-interest');
    const conflicts = json<{ items: Array<{ reviewerId: string; applicationId: string }> }>(await inject({ method: 'GET', url: `/api/v1/calls/${callId}/conflicts`, headers: world.chair.headers }), 200);
    expect(conflicts.items).toMatchObject([{ reviewerId: r1.user.id, applicationId: appId }]);
    problem(await inject({ method: 'GET', url: `/api/v1/calls/${callId}/conflicts`, headers: r1.headers }), 403, 'forbidden');
    const chairNotes = json<{ items: Array<{ kind: string }> }>(await inject({ method: 'GET', url: '/api/v1/notifications', headers: world.chair.headers }), 200);
    expect(chairNotes.items.some((n) => n.kind === 'review.conflict')).toBe(true);

    // r2 declares a conflict with the applicant's whole institution: assignment is refused and existing ones recused.
    json(await assign(appId, r2.user.id), 201);
    expect(json<{ recused: number }>(await inject({ method: 'POST', url: `/api/v1/calls/${callId}/conflicts`, headers: r2.headers, payload: { institutionId: applicant.institution.id, reason: 'Adjunct position there' } }), 200).recused).toBe(1);
    problem(await inject({ method: 'GET', url: `/api/v1/applications/${appId}`, headers: r2.headers }), 404, 'not-found');
    const r3 = world.reviewers[2]!;
    json(await assign(appId, r3.user.id), 201);
    json(await inject({ method: 'POST', url: `/api/v1/calls/${callId}/conflicts`, headers: r3.headers, payload: { institutionId: applicant.institution.id, reason: 'Co-author' } }), 200);
    problem(await assign(appId, world.reviewers[3]!.user.id, r3), 403, 'forbidden');
    const outsider = await signIn(server.app, server.context, ['reviewer']);
    problem(await inject({ method: 'POST', url: `/api/v1/calls/${callId}/conflicts`, headers: outsider.headers, payload: { institutionId: applicant.institution.id, reason: 'x' } }), 404, 'not-found');
  });

  it('leaks no applicant identity to a reviewer of a blind call, anywhere in the API', async () => {
    const institution = await createInstitution(server.context, 'Purple Mountain Lunar Laboratory');
    const applicant = await newApplicant(server.app, server.context, institution);
    const callId = await openCall(server.app, world, { blind: true });
    const created = json<{ id: string }>(
      await inject({
        method: 'POST',
        url: '/api/v1/applications',
        headers: applicant.headers,
        payload: {
          callId,
          title: 'Space weathering of agglutinates',
          researchDirection: 'evolution of the Moon',
          methods: 'TEM of FIB sections',
          justification: 'Nanophase iron records exposure.',
          items: [{ kind: 'scooped', quantity: '0.2500' }],
          team: [{ name: 'Qiu Mingyue', role: 'postdoc' }, { name: 'Ouyang Lan', institution: 'Xiamen Basalt Centre' }],
          publications: [{ citation: `${applicant.name}, Qiu M. (2022) Icarus` }],
          ethicsReference: 'PMO-ETH-77',
        },
      }),
      201,
    );
    // Naming yourself in the text of a blind application is sent back, not leaked.
    json(await inject({ method: 'PATCH', url: `/api/v1/applications/${created.id}`, headers: applicant.headers, payload: { justification: 'Our Purple Mountain Lunar Laboratory team has done this.' } }), 200);
    expect(problem(await inject({ method: 'POST', url: `/api/v1/applications/${created.id}/submit`, headers: applicant.headers }), 400).errors.map((e) => e.field)).toEqual(['justification']);
    json(await inject({ method: 'PATCH', url: `/api/v1/applications/${created.id}`, headers: applicant.headers, payload: { justification: 'Nanophase iron records exposure.', methods: 'TEM of FIB sections, cut by Ouyang Lan at the Xiamen Basalt Centre' } }), 200);
    expect(problem(await inject({ method: 'POST', url: `/api/v1/applications/${created.id}/submit`, headers: applicant.headers }), 400).errors.map((e) => e.field)).toEqual(['methods']);
    json(await inject({ method: 'PATCH', url: `/api/v1/applications/${created.id}`, headers: applicant.headers, payload: { methods: 'TEM of FIB sections' } }), 200);
    // The file's own metadata names the applicant and their institution.
    const pdf = await pdfWithAuthor(`${applicant.name}, ${institution.name}`);
    expect(pdf.toString('latin1')).toContain(institution.name);
    const attachment = json<{ id: string }>(await inject({ method: 'POST', url: `/api/v1/applications/${created.id}/attachments?name=${encodeURIComponent(`${applicant.name} CV.pdf`)}`, headers: { ...applicant.headers, 'content-type': 'application/pdf' }, payload: pdf }), 201);
    json(await inject({ method: 'POST', url: `/api/v1/applications/${created.id}/submit`, headers: applicant.headers }), 200);
    const appId = created.id;
    json(await transition(callId, 'closed'), 200);
    const reviewer = world.reviewers[3]!;
    json(await assign(appId, reviewer.user.id), 201);
    json(await transition(callId, 'in_review'), 200);
    // The reminder before the deadline is something the reviewer reads too.
    const deadline = new Date(json<{ reviewDeadline: string }>(await inject({ method: 'GET', url: `/api/v1/calls/${callId}`, headers: world.chair.headers }), 200).reviewDeadline).getTime();
    expect(await server.context.services.review.sendReminders(new Date(deadline - 3600_000), callId)).toBe(1);

    const bodies: string[] = [];
    const fetch = async (options: InjectOptions) => {
      const response = await inject({ ...options, headers: { ...reviewer.headers, ...(options.headers ?? {}) } });
      bodies.push(JSON.stringify(response.headers), response.headers['content-type']?.toString().includes('pdf') ? response.rawPayload.toString('latin1') : response.body);
      return response;
    };
    const review = (await reviewOf(reviewer, appId))!;
    await fetch({ method: 'GET', url: '/api/v1/applications?limit=200' });
    await fetch({ method: 'GET', url: `/api/v1/applications?callId=${callId}` });
    expect((await fetch({ method: 'GET', url: `/api/v1/applications/${appId}` })).statusCode).toBe(200);
    expect((await fetch({ method: 'GET', url: `/api/v1/applications/${appId}/attachments/${attachment.id}` })).statusCode).toBe(200);
    await fetch({ method: 'GET', url: '/api/v1/reviews' });
    await fetch({ method: 'GET', url: `/api/v1/reviews/${review.id}` });
    expect((await fetch({ method: 'PUT', url: `/api/v1/reviews/${review.id}`, payload: scores(4) })).statusCode).toBe(200);
    const notes = await fetch({ method: 'GET', url: '/api/v1/notifications?limit=200' });
    expect(notes.body).toContain('review.reminder');
    expect(notes.body).toContain('review.assigned');
    await fetch({ method: 'GET', url: `/api/v1/calls/${callId}` });
    await fetch({ method: 'GET', url: '/api/v1/calls?limit=200' });
    await fetch({ method: 'GET', url: `/api/v1/calls/${callId}/pool` });
    await fetch({ method: 'GET', url: `/api/v1/calls/${callId}/statistics` });
    await fetch({ method: 'GET', url: `/api/v1/calls/${callId}/ranking` });
    await fetch({ method: 'GET', url: `/api/v1/applications/${appId}/reviews` });
    await fetch({ method: 'GET', url: `/api/v1/calls/${callId}/statistics.csv` });

    const everything = bodies.join('\n').toLowerCase();
    expect(everything).toContain('space weathering of agglutinates');
    const identity = [applicant.name, applicant.user.email, applicant.user.id, institution.id, institution.code, institution.name, 'Qiu Mingyue', 'Ouyang Lan', 'Xiamen Basalt Centre', 'PMO-ETH-77'];
    for (const needle of identity) expect(everything, `leaks ${needle}`).not.toContain(needle.toLowerCase());

    // The same reviewer in an open call sees who applied.
    const openReview = await openCall(server.app, world, { blind: false });
    const named = await submitApplication(server.app, applicant, openReview);
    json(await transition(openReview, 'closed'), 200);
    json(await assign(named, reviewer.user.id), 201);
    const seen = json<{ applicantId: string; institution: { name: string }; team: unknown[] }>(await inject({ method: 'GET', url: `/api/v1/applications/${named}`, headers: reviewer.headers }), 200);
    expect(seen.applicantId).toBe(applicant.user.id);
    expect(seen.institution.name).toBe(institution.name);
  });

  it('scores every criterion within the scale, revises until decided, and tells the chair when all reviews are in', async () => {
    const applicant = await newApplicant(server.app, server.context);
    const callId = await openCall(server.app, world);
    const appId = await submitApplication(server.app, applicant, callId);
    json(await transition(callId, 'closed'), 200);
    const [r1, r2] = world.reviewers as [SignedIn, SignedIn];
    json(await assign(appId, r1.user.id), 201);
    json(await assign(appId, r2.user.id), 201);
    const first = (await reviewOf(r1, appId))!;
    const second = (await reviewOf(r2, appId))!;
    const put = (who: SignedIn, id: string, body: object) => inject({ method: "PUT", url: `/api/v1/reviews/${id}`, headers: who.headers, payload: body });
    expect(problem(await put(r1, first.id, scores(4)), 409, 'invalid-state').detail).toContain('in review');
    json(await transition(callId, 'in_review'), 200);
    // Both reviewers are told they can score now.
    for (const who of [r1, r2]) {
      const notes = json<{ items: Array<{ kind: string; entityId: string }> }>(await inject({ method: 'GET', url: '/api/v1/notifications?limit=200', headers: who.headers }), 200).items;
      expect(notes.filter((n) => n.kind === 'review.open' && n.entityId === callId)).toHaveLength(1);
    }

    expect(problem(await put(r1, first.id, { scores: [{ criterion: 'merit', score: 4 }] }), 400, 'validation-failed').detail).toContain('feasibility');
    expect(problem(await put(r1, first.id, scores(6)), 400, 'validation-failed').errors[0]!.field).toBe('scores.0.score');
    expect(problem(await put(r1, first.id, { scores: [{ criterion: 'beauty', score: 3 }] }), 400).errors[0]!.field).toBe('scores.0.criterion');
    problem(await put(r2, first.id, scores(4)), 404, 'not-found');
    problem(await put(world.chair, first.id, scores(4)), 403, 'forbidden');

    const saved = json<{ state: string; allReviewsIn: boolean; scores: unknown[] }>(await put(r1, first.id, scores(4, 2)), 200);
    expect(saved).toMatchObject({ state: 'submitted', allReviewsIn: false });
    expect(json<{ allReviewsIn: boolean }>(await put(r1, first.id, scores(5, 3)), 200).allReviewsIn).toBe(false);
    expect(json<{ allReviewsIn: boolean }>(await put(r2, second.id, scores(2)), 200).allReviewsIn).toBe(true);
    const chairNotes = json<{ items: Array<{ kind: string; entityId: string }> }>(await inject({ method: 'GET', url: '/api/v1/notifications?limit=200', headers: world.chair.headers }), 200);
    expect(chairNotes.items.filter((n) => n.kind === 'review.all-in' && n.entityId === callId)).toHaveLength(1);

    const all = json<{ items: Array<{ reviewerId: string; confidentialNotes: string; scores: Array<{ criterion: string; score: number }> }> }>(await inject({ method: 'GET', url: `/api/v1/applications/${appId}/reviews`, headers: world.chair.headers }), 200);
    expect(all.items.find((r) => r.reviewerId === r1.user.id)!.scores).toEqual([{ criterion: 'merit', score: 5, comment: null }, { criterion: 'feasibility', score: 3, comment: null }]);
    expect(all.items[0]!.confidentialNotes).toBe('Lab is strong.');
    problem(await inject({ method: 'GET', url: `/api/v1/applications/${appId}/reviews`, headers: applicant.headers }), 403, 'forbidden');
    const events = await server.context.handle.db.selectFrom('audit_events').select('action').where('entity_id', '=', appId).where('action', 'like', 'review.%').execute();
    expect(events.map((e) => e.action).sort()).toEqual(['review.assign', 'review.assign', 'review.revise', 'review.submit', 'review.submit']);

    json(await inject({ method: 'POST', url: `/api/v1/applications/${appId}/decision`, headers: world.chair.headers, payload: { outcome: 'approved', rationale: 'Good' } }), 200);
    json(await transition(callId, 'decided'), 200);
    problem(await put(r1, first.id, scores(1)), 409, 'invalid-state');
    // The applicant reads the comments meant for them, never the confidential notes or who wrote them.
    const decided = json<{ decision: { reviewComments: string[] } }>(await inject({ method: 'GET', url: `/api/v1/applications/${appId}`, headers: applicant.headers }), 200);
    expect(decided.decision.reviewComments).toEqual(['Clear plan.', 'Clear plan.']);
    expect(JSON.stringify(decided)).not.toContain('Lab is strong');
    expect(JSON.stringify(decided)).not.toContain(r1.user.id);
  });

  it('ranks by scores normalised per reviewer, where raw averages would rank otherwise', async () => {
    const callId = await openCall(server.app, world, { reviewersPerApplication: 1 });
    const ids: Record<string, string> = {};
    for (const name of ['A', 'B', 'C', 'D', 'E', 'F']) ids[name] = await submitApplication(server.app, await newApplicant(server.app, server.context), callId, { title: `Application ${name}` });
    json(await transition(callId, 'closed'), 200);
    const [harsh, lenient] = world.reviewers as [SignedIn, SignedIn];
    const given: Array<[SignedIn, string, number]> = [[harsh, 'A', 3], [harsh, 'B', 1], [harsh, 'C', 2], [lenient, 'D', 4], [lenient, 'E', 5], [lenient, 'F', 3]];
    for (const [who, name] of given) json(await assign(ids[name]!, who.user.id), 201);
    json(await transition(callId, 'in_review'), 200);
    for (const [who, name, score] of given) json(await inject({ method: 'PUT', url: `/api/v1/reviews/${(await reviewOf(who, ids[name]!))!.id}`, headers: who.headers, payload: scores(score) }), 200);

    const ranking = json<{ items: Array<{ rank: number; title: string; rawMean: number; normalised: number; spread: { sd: number }; reviewers: unknown[] }> }>(await inject({ method: 'GET', url: `/api/v1/calls/${callId}/ranking`, headers: world.chair.headers }), 200);
    expect(ranking.items.map((i) => i.title.slice(-1))).toEqual(['E', 'A', 'D', 'C', 'F', 'B']);
    const a = ranking.items.find((i) => i.title.endsWith('A'))!;
    const d = ranking.items.find((i) => i.title.endsWith('D'))!;
    expect(a.rawMean).toBeLessThan(d.rawMean);
    expect(a.rank).toBeLessThan(d.rank);
    expect(a.spread.sd).toBe(0);
    json(await inject({ method: 'GET', url: `/api/v1/calls/${callId}/ranking`, headers: world.auditor.headers }), 200);
    problem(await inject({ method: 'GET', url: `/api/v1/calls/${callId}/ranking`, headers: harsh.headers }), 403, 'forbidden');
    problem(await inject({ method: 'GET', url: `/api/v1/calls/${callId}/ranking`, headers: world.curator.headers }), 403, 'forbidden');
    const forAllocation = await server.context.services.review.ranking(callId);
    expect(forAllocation.items[0]!.applicationId).toBe(ids.E);
  });

  it('reminds reviewers once before the deadline', async () => {
    const callId = await openCall(server.app, world);
    const appId = await submitApplication(server.app, await newApplicant(server.app, server.context), callId);
    json(await transition(callId, 'closed'), 200);
    const reviewer = world.reviewers[1]!;
    json(await assign(appId, reviewer.user.id), 201);
    const call = json<{ reviewDeadline: string }>(await inject({ method: 'GET', url: `/api/v1/calls/${callId}`, headers: world.chair.headers }), 200);
    const deadline = new Date(call.reviewDeadline).getTime();
    expect(await server.context.services.review.sendReminders(new Date(deadline - 72 * 3600_000), callId)).toBe(0);
    expect(await server.context.services.review.sendReminders(new Date(deadline - 24 * 3600_000), callId)).toBe(1);
    expect(await server.context.services.review.sendReminders(new Date(deadline - 23 * 3600_000), callId)).toBe(0);
    const notes = json<{ items: Array<{ kind: string; body: string }> }>(await inject({ method: 'GET', url: '/api/v1/notifications?limit=200', headers: reviewer.headers }), 200);
    expect(notes.items.filter((n) => n.kind === 'review.reminder')).toHaveLength(1);
  });
  it('reminds once when several server processes run the reminders at the same moment', async () => {
    const callId = await openCall(server.app, world);
    const appId = await submitApplication(server.app, await newApplicant(server.app, server.context), callId);
    json(await transition(callId, 'closed'), 200);
    const reviewer = world.reviewers[2]!;
    json(await assign(appId, reviewer.user.id), 201);
    const call = json<{ reviewDeadline: string }>(await inject({ method: 'GET', url: `/api/v1/calls/${callId}`, headers: world.chair.headers }), 200);
    const at = new Date(new Date(call.reviewDeadline).getTime() - 24 * 3600_000);
    // Each run reads the due reviews first, then claims them: one claim wins per review.
    const runs = await Promise.all(Array.from({ length: 4 }, () => server.context.services.review.sendReminders(at, callId)));
    expect(runs.reduce((a, b) => a + b, 0)).toBe(1);
    const notes = json<{ items: Array<{ kind: string; entityId: string | null }> }>(await inject({ method: 'GET', url: '/api/v1/notifications?limit=200', headers: reviewer.headers }), 200);
    expect(notes.items.filter((n) => n.kind === 'review.reminder')).toHaveLength(1);
  });
  it('assigns by hand only panel reviewers to reviewable applications, refusing bad input and changing nothing', async () => {
    const applicant = await newApplicant(server.app, server.context);
    const callId = await openCall(server.app, world, { panel: world.reviewers.slice(0, 2).map((r) => r.user.id) });
    const appId = await submitApplication(server.app, applicant, callId);
    const gone = await submitApplication(server.app, applicant, callId);
    const [r1, , r3] = world.reviewers as [SignedIn, SignedIn, SignedIn];
    // While the call is open, nobody is assigned yet.
    expect(problem(await assign(appId, r1.user.id), 409, 'invalid-state').errors[0]!.field).toBe('state');
    json(await transition(callId, 'closed'), 200);
    json(await inject({ method: 'POST', url: `/api/v1/applications/${gone}/withdraw`, headers: applicant.headers }), 200);
    expect(problem(await assign(appId, r3.user.id), 400, 'validation-failed').errors[0]!.field).toBe('reviewerId');
    expect(problem(await assign(appId, applicant.user.id), 400, 'validation-failed').errors[0]!.field).toBe('reviewerId');
    expect(problem(await inject({ method: 'POST', url: `/api/v1/applications/${appId}/reviews`, headers: world.chair.headers, payload: { reviewerId: 'someone' } }), 400).errors[0]!.field).toBe('reviewerId');
    expect(problem(await inject({ method: 'POST', url: `/api/v1/applications/${appId}/reviews`, headers: world.chair.headers, payload: {} }), 400).errors[0]!.field).toBe('reviewerId');
    problem(await assign('00000000-0000-4000-8000-000000000000', r1.user.id), 404, 'not-found');
    problem(await assign(gone, r1.user.id), 409, 'invalid-state');
    for (const who of [applicant, r1, world.curator, world.auditor]) problem(await assign(appId, r1.user.id, who), 403, 'forbidden');
    problem(await inject({ method: 'POST', url: `/api/v1/applications/${appId}/reviews`, payload: { reviewerId: r1.user.id } }), 401, 'unauthenticated');
    expect(await server.context.handle.db.selectFrom('reviews').select('id').where('call_id', '=', callId).execute()).toEqual([]);
    // Automatic assignment: bad input, the wrong people, a missing call.
    const auto = (payload: object, who: SignedIn = world.chair, id = callId) => inject({ method: 'POST', url: `/api/v1/calls/${id}/assignments/auto`, headers: who.headers, payload });
    expect(problem(await auto({ perApplication: 0 }), 400).errors[0]!.field).toBe('perApplication');
    expect(problem(await auto({ perApplication: 'two' }), 400).errors[0]!.field).toBe('perApplication');
    problem(await auto({}, world.chair, '00000000-0000-4000-8000-000000000000'), 404, 'not-found');
    for (const who of [applicant, r1, world.curator, world.auditor]) problem(await auto({}, who), 403, 'forbidden');
    // With two panel reviewers, three per application cannot be met: the shortfall is reported, not hidden.
    const result = json<{ assigned: number; shortfalls: Array<{ applicationId: string; missing: number }> }>(await auto({ perApplication: 3 }), 200);
    expect(result).toMatchObject({ assigned: 2, shortfalls: [{ applicationId: appId, missing: 1 }] });
  });

  it('unassigns a pending review (chair only), and tells the chair when that leaves every review in', async () => {
    const applicant = await newApplicant(server.app, server.context);
    const callId = await openCall(server.app, world);
    const appId = await submitApplication(server.app, applicant, callId);
    json(await transition(callId, 'closed'), 200);
    const [r1, r2] = world.reviewers as [SignedIn, SignedIn];
    const first = json<{ id: string }>(await assign(appId, r1.user.id), 201);
    const second = json<{ id: string }>(await assign(appId, r2.user.id), 201);
    json(await transition(callId, 'in_review'), 200);
    json(await inject({ method: 'PUT', url: `/api/v1/reviews/${first.id}`, headers: r1.headers, payload: scores(4) }), 200);
    const remove = (id: string, who: SignedIn = world.chair) => inject({ method: 'DELETE', url: `/api/v1/reviews/${id}`, headers: who.headers });
    for (const who of [r2, r1, applicant, world.curator, world.auditor]) problem(await remove(second.id, who), 403, 'forbidden');
    expect(problem(await remove(first.id), 409, 'invalid-state').errors[0]!.field).toBe('state');
    problem(await remove('00000000-0000-4000-8000-000000000000'), 404, 'not-found');
    problem(await remove('nope'), 400, 'validation-failed');
    const allIn = async () => json<{ items: Array<{ kind: string; entityId: string }> }>(await inject({ method: 'GET', url: '/api/v1/notifications?limit=200', headers: world.chair.headers }), 200).items.filter((n) => n.kind === 'review.all-in' && n.entityId === callId);
    expect(await allIn()).toHaveLength(0);
    expect((await remove(second.id)).statusCode).toBe(204);
    expect(await allIn()).toHaveLength(1);
    problem(await inject({ method: 'GET', url: `/api/v1/reviews/${second.id}`, headers: r2.headers }), 404, 'not-found');
    expect((await myReviews(r2, callId)).map((r) => r.applicationId)).toEqual([]);
    problem(await inject({ method: 'GET', url: `/api/v1/applications/${appId}`, headers: r2.headers }), 404, 'not-found');
    const events = await server.context.handle.db.selectFrom('audit_events').select('action').where('entity_id', '=', appId).where('action', '=', 'review.unassign').execute();
    expect(events).toHaveLength(1);
  });

  it('takes conflict declarations only from the assigned reviewer, with a reason, until the call is decided', async () => {
    const applicant = await newApplicant(server.app, server.context);
    const callId = await openCall(server.app, world);
    const appId = await submitApplication(server.app, applicant, callId);
    json(await transition(callId, 'closed'), 200);
    const [r1, r2, r3] = world.reviewers as [SignedIn, SignedIn, SignedIn];
    json(await assign(appId, r1.user.id), 201);
    json(await assign(appId, r3.user.id), 201);
    const declare = (who: SignedIn, payload: object, id = appId) => inject({ method: 'POST', url: `/api/v1/applications/${id}/conflicts`, headers: who.headers, payload });
    expect(problem(await declare(r1, { reason: '' }), 400).errors[0]!.field).toBe('reason');
    expect(problem(await declare(r1, {}), 400).errors[0]!.field).toBe('reason');
    problem(await declare(r2, { reason: 'not mine' }), 404, 'not-found');
    problem(await declare(applicant, { reason: 'x' }), 403, 'forbidden');
    problem(await declare(world.chair, { reason: 'x' }), 403, 'forbidden');
    problem(await declare(r1, { reason: 'x' }, '00000000-0000-4000-8000-000000000000'), 404, 'not-found');
    const institution = (who: SignedIn, payload: object) => inject({ method: 'POST', url: `/api/v1/calls/${callId}/conflicts`, headers: who.headers, payload });
    expect(problem(await institution(r1, { institutionId: '00000000-0000-4000-8000-000000000000', reason: 'x' }), 400, 'validation-failed').errors[0]!.field).toBe('institutionId');
    expect(problem(await institution(r1, { institutionId: 'abc', reason: 'x' }), 400, 'validation-failed').errors[0]!.field).toBe('institutionId');
    expect(problem(await institution(r1, { institutionId: applicant.institution.id }), 400, 'validation-failed').errors[0]!.field).toBe('reason');
    problem(await institution(applicant, { institutionId: applicant.institution.id, reason: 'x' }), 403, 'forbidden');
    expect(await server.context.handle.db.selectFrom('review_conflicts').select('id').where('call_id', '=', callId).execute()).toEqual([]);
    json(await transition(callId, 'in_review'), 200);
    json(await inject({ method: 'PUT', url: `/api/v1/reviews/${(await reviewOf(r3, appId))!.id}`, headers: r3.headers, payload: scores(3) }), 200);
    json(await inject({ method: 'POST', url: `/api/v1/applications/${appId}/decision`, headers: world.chair.headers, payload: { outcome: 'rejected', rationale: 'weak' } }), 200);
    json(await transition(callId, 'decided'), 200);
    expect(problem(await declare(r1, { reason: 'late' }), 409, 'invalid-state').errors[0]!.field).toBe('state');
    problem(await institution(r1, { institutionId: applicant.institution.id, reason: 'late' }), 409, 'invalid-state');
  });

  it('tells the chair all reviews are in when the last pending reviewer recuses', async () => {
    const applicant = await newApplicant(server.app, server.context);
    const callId = await openCall(server.app, world);
    const appId = await submitApplication(server.app, applicant, callId);
    json(await transition(callId, 'closed'), 200);
    const [r1, r2] = world.reviewers as [SignedIn, SignedIn];
    json(await assign(appId, r1.user.id), 201);
    json(await assign(appId, r2.user.id), 201);
    json(await transition(callId, 'in_review'), 200);
    json(await inject({ method: 'PUT', url: `/api/v1/reviews/${(await reviewOf(r1, appId))!.id}`, headers: r1.headers, payload: scores(4) }), 200);
    expect((await inject({ method: 'POST', url: `/api/v1/applications/${appId}/conflicts`, headers: r2.headers, payload: { reason: 'Same research group last year' } })).statusCode).toBe(204);
    const notes = json<{ items: Array<{ kind: string; entityId: string }> }>(await inject({ method: 'GET', url: '/api/v1/notifications?limit=200', headers: world.chair.headers }), 200).items;
    expect(notes.filter((n) => n.kind === 'review.all-in' && n.entityId === callId)).toHaveLength(1);
    expect(notes.filter((n) => n.kind === 'review.conflict' && n.entityId === appId)).toHaveLength(1);
  });

  it('answers 404 for reviews, rankings and conflicts of things that do not exist', async () => {
    problem(await inject({ method: 'GET', url: '/api/v1/calls/00000000-0000-4000-8000-000000000000/ranking', headers: world.chair.headers }), 404, 'not-found');
    problem(await inject({ method: 'GET', url: '/api/v1/applications/00000000-0000-4000-8000-000000000000/reviews', headers: world.chair.headers }), 404, 'not-found');
    problem(await inject({ method: 'GET', url: '/api/v1/reviews/00000000-0000-4000-8000-000000000000', headers: world.chair.headers }), 404, 'not-found');
    problem(await inject({ method: 'PUT', url: '/api/v1/reviews/00000000-0000-4000-8000-000000000000', headers: world.reviewers[0]!.headers, payload: scores(3) }), 404, 'not-found');
    expect(problem(await inject({ method: 'GET', url: '/api/v1/reviews?limit=0', headers: world.reviewers[0]!.headers }), 400).errors[0]!.field).toBe('limit');
    for (const who of [world.chair, world.curator]) problem(await inject({ method: 'GET', url: '/api/v1/reviews', headers: who.headers }), 403, 'forbidden');
    problem(await inject({ method: 'GET', url: '/api/v1/reviews' }), 401, 'unauthenticated');
  });
  it('in a blind call, takes institution conflicts before assignment only, so a declaration cannot reveal where an application comes from', async () => {
    const applicant = await newApplicant(server.app, server.context);
    const callId = await openCall(server.app, world, { blind: true });
    const appId = await submitApplication(server.app, applicant, callId);
    const otherApp = await submitApplication(server.app, await newApplicant(server.app, server.context), callId);
    const [r1, r2] = world.reviewers as [SignedIn, SignedIn];
    const declare = (who: SignedIn) => inject({ method: 'POST', url: `/api/v1/calls/${callId}/conflicts`, headers: who.headers, payload: { institutionId: applicant.institution.id, reason: 'Former affiliation' } });
    // Before any assignment: accepted, and it keeps r1 away from that institution's applications for good.
    expect(json<{ recused: number }>(await declare(r1), 200).recused).toBe(0);
    json(await transition(callId, 'closed'), 200);
    problem(await assign(appId, r1.user.id), 409, 'conflict-of-interest');
    json(await inject({ method: 'POST', url: `/api/v1/calls/${callId}/assignments/auto`, headers: world.chair.headers, payload: { perApplication: 4 } }), 200);
    const rows = await server.context.handle.db.selectFrom('reviews').select(['application_id', 'reviewer_id']).where('call_id', '=', callId).execute();
    expect(rows.filter((r) => r.reviewer_id === r1.user.id).map((r) => r.application_id)).toEqual([otherApp]);
    // After assignment: refused, and nothing is taken away.
    const refused = problem(await declare(r2), 409, 'invalid-state');
    expect(refused.errors[0]!.field).toBe('institutionId');
    expect((await myReviews(r2, callId)).map((r) => r.applicationId).sort()).toEqual([appId, otherApp].sort());
    expect(await server.context.handle.db.selectFrom('review_conflicts').select('id').where('call_id', '=', callId).where('reviewer_id', '=', r2.user.id).execute()).toEqual([]);
  });
});
