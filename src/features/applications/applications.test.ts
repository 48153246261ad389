import crypto from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../core/actor.js';
import { inTransaction } from '../../platform/db/tx.js';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { problem, type SignedIn } from '../../../test/factories.js';
import { applicationBody, buildWorld, callBody, json, newApplicant, openCall, pdfWithAuthor, seedCollection, seedSample, submitApplication, type Applicant, type World } from '../calls/calls.testkit.js';

interface Application {
  id: string;
  state: string;
  applicantId?: string;
  institutionId?: string;
  items: Array<{ kind: string; quantity: string; minimum: string; approved: string | null }>;
  attachments: Array<{ id: string; name: string; sizeBytes: number }>;
  decision?: { outcome: string; letter: string | null; rationale?: string | null; reviewComments?: string[] };
}

const PDF = Buffer.from('%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

describe(`applications on ${engine}`, () => {
  let server: TestServer;
  let world: World;
  let alice: Applicant;
  let bob: Applicant;
  let callId: string;
  beforeAll(async () => {
    server = await createTestServer();
    world = await buildWorld(server.app, server.context);
    alice = await newApplicant(server.app, server.context);
    bob = await newApplicant(server.app, server.context);
    callId = await openCall(server.app, world);
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.app.inject(options);
  const draft = async (who: SignedIn, overrides: Record<string, unknown> = {}, call = callId) => json<Application>(await inject({ method: 'POST', url: '/api/v1/applications', headers: who.headers, payload: applicationBody(call, overrides) }), 201);
  const act = (who: SignedIn, id: string, action: string, payload?: unknown) => inject({ method: 'POST', url: `/api/v1/applications/${id}/${action}`, headers: who.headers, ...(payload ? { payload } : {}) });
  const transition = (id: string, to: string) => inject({ method: 'POST', url: `/api/v1/calls/${id}/transitions`, headers: world.chair.headers, payload: { to } });

  it('drafts, edits and submits with exact quantities; a submitted application is frozen', async () => {
    const created = await draft(alice, { items: [{ kind: 'scooped', quantity: '2', minimum: '0.25' }] });
    expect(created).toMatchObject({ state: 'draft', applicantId: alice.user.id, institutionId: alice.institution.id });
    expect(created.items).toEqual([{ kind: 'scooped', quantity: '2.0000', minimum: '0.2500', approved: null }]);
    const edited = json<Application>(await inject({ method: 'PATCH', url: `/api/v1/applications/${created.id}`, headers: alice.headers, payload: { items: [{ kind: 'drilled', quantity: '0.1234' }] } }), 200);
    expect(edited.items).toEqual([{ kind: 'drilled', quantity: '0.1234', minimum: '0.1234', approved: null }]);
    const submitted = json<Application>(await act(alice, created.id, 'submit'), 200);
    expect(submitted.state).toBe('submitted');
    problem(await act(alice, created.id, 'submit'), 409, 'invalid-state');
    problem(await inject({ method: 'PATCH', url: `/api/v1/applications/${created.id}`, headers: alice.headers, payload: { title: 'Changed' } }), 409, 'invalid-state');
    const events = await server.context.handle.db.selectFrom('audit_events').select('action').where('entity_id', '=', created.id).orderBy('seq').execute();
    expect(events.map((e) => e.action)).toEqual(['application.create', 'application.update', 'application.submit']);
  });

  it('refuses bad requests naming the field, and changes nothing', async () => {
    const bad = async (overrides: Record<string, unknown>, status: number, type: string) => problem(await inject({ method: 'POST', url: '/api/v1/applications', headers: alice.headers, payload: applicationBody(callId, overrides) }), status, type).errors[0]!;
    expect((await bad({ items: [{ kind: 'breccia', quantity: '1' }] }, 400, 'validation-failed')).field).toBe('items.0.kind');
    expect((await bad({ items: [{ kind: 'scooped', quantity: '1.00001' }] }, 400, 'invalid-quantity')).field).toBe('items.0.quantity');
    expect((await bad({ items: [{ kind: 'scooped', quantity: '1', minimum: '2' }] }, 400, 'validation-failed')).field).toBe('items.0.minimum');
    expect((await bad({ items: [{ kind: 'scooped', quantity: '-1' }] }, 400, 'invalid-quantity')).field).toBe('items.0.quantity');
    // 160 g scooped with 75% in permanent reserve: 40 g may be released.
    expect((await bad({ items: [{ kind: 'scooped', quantity: '40.0001' }] }, 409, 'insufficient-quantity')).message).toContain('40.0000 g');
    expect((await bad({ researchDirection: 'astrology' }, 400, 'validation-failed')).field).toBe('researchDirection');
    expect((await bad({ title: '' }, 400, 'validation-failed')).field).toBe('title');
    const mine = json<{ items: Application[] }>(await inject({ method: 'GET', url: `/api/v1/applications?mine=true&limit=200`, headers: alice.headers }), 200);
    expect(mine.items).toHaveLength(1);

    const incomplete = await draft(alice, { methods: null, justification: '', items: [] });
    const missing = problem(await act(alice, incomplete.id, 'submit'), 400, 'validation-failed').errors.map((e) => e.field);
    expect(missing).toEqual(['methods', 'justification', 'items']);
    expect(json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${incomplete.id}`, headers: alice.headers }), 200).state).toBe('draft');
  });

  it('asks for an ethics approval when the collection holds human material', async () => {
    const tissue = await seedCollection(server.context, { humanConsent: true });
    const block = await seedSample(server.context, tissue, 'block', 40n, 'available');
    const call = json<{ id: string }>(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world, { collectionId: tissue, researchDirections: [], reserveFraction: '0.5' }) }), 201);
    json(await inject({ method: 'PUT', url: `/api/v1/calls/${call.id}/pool`, headers: world.curator.headers, payload: { sampleIds: [block] } }), 200);
    json(await transition(call.id, 'open'), 200);
    const app = await draft(alice, { researchDirection: null, researchDirectionOther: 'lung pathology', items: [{ kind: 'block', quantity: '0.0002' }] }, call.id);
    expect(problem(await act(alice, app.id, 'submit'), 400, 'validation-failed').errors.map((e) => e.field)).toEqual(['ethicsReference']);
    json(await inject({ method: 'PATCH', url: `/api/v1/applications/${app.id}`, headers: alice.headers, payload: { ethicsReference: 'IRB-2020-117' } }), 200);
    expect(json<Application>(await act(alice, app.id, 'submit'), 200).state).toBe('submitted');
  });

  it('shows an applicant only their own applications: another’s is 404 everywhere', async () => {
    const id = await submitApplication(server.app, alice, callId);
    problem(await inject({ method: 'GET', url: `/api/v1/applications/${id}`, headers: bob.headers }), 404, 'not-found');
    problem(await inject({ method: 'PATCH', url: `/api/v1/applications/${id}`, headers: bob.headers, payload: { title: 'Mine now' } }), 404, 'not-found');
    problem(await act(bob, id, 'withdraw'), 404, 'not-found');
    problem(await act(bob, id, 'submit'), 404, 'not-found');
    const missing = problem(await inject({ method: 'GET', url: `/api/v1/applications/00000000-0000-4000-8000-000000000000`, headers: bob.headers }), 404, 'not-found');
    const hidden = problem(await inject({ method: 'GET', url: `/api/v1/applications/${id}`, headers: bob.headers }), 404, 'not-found');
    expect(hidden.detail).toBe(missing.detail);
    const list = json<{ items: Application[] }>(await inject({ method: 'GET', url: '/api/v1/applications?limit=200', headers: bob.headers }), 200);
    expect(list.items.map((a) => a.applicantId)).not.toContain(alice.user.id);
    // A reviewer with no assignment sees nothing; the chair and the auditor see it with its applicant.
    problem(await inject({ method: 'GET', url: `/api/v1/applications/${id}`, headers: world.reviewers[0]!.headers }), 404, 'not-found');
    for (const who of [world.chair, world.auditor]) {
      expect(json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${id}`, headers: who.headers }), 200).applicantId).toBe(alice.user.id);
    }
    // Drafts stay private even from the chair.
    const privateDraft = await draft(alice);
    problem(await inject({ method: 'GET', url: `/api/v1/applications/${privateDraft.id}`, headers: world.chair.headers }), 404, 'not-found');
    problem(await inject({ method: 'GET', url: `/api/v1/applications/${privateDraft.id}`, headers: bob.headers }), 404, 'not-found');
    expect(json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${privateDraft.id}`, headers: world.auditor.headers }), 200).state).toBe('draft');
    problem(await inject({ method: 'GET', url: `/api/v1/applications/${id}` }), 401, 'unauthenticated');
  });

  it('refuses applications from institutions the call does not admit', async () => {
    const closed = await openCall(server.app, world, { eligibleInstitutionIds: [alice.institution.id] });
    await draft(alice, {}, closed);
    problem(await inject({ method: 'POST', url: '/api/v1/applications', headers: bob.headers, payload: applicationBody(closed) }), 403, 'forbidden');
    problem(await inject({ method: 'POST', url: '/api/v1/applications', headers: world.reviewers[0]!.headers, payload: applicationBody(callId) }), 403, 'forbidden');
  });

  it('refuses a late submission with a clear message', async () => {
    const late = await openCall(server.app, world);
    const app = await draft(alice, {}, late);
    // The chair closes the window early.
    json(await inject({ method: 'PATCH', url: `/api/v1/calls/${late}`, headers: world.chair.headers, payload: { closesAt: new Date(Date.now() - 1000).toISOString() } }), 200);
    const refused = problem(await act(alice, app.id, 'submit'), 409, 'deadline-passed');
    expect(refused.detail).toMatch(/closed at \d{4}-\d\d-\d\dT/);
    expect(json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${app.id}`, headers: alice.headers }), 200).state).toBe('draft');
    problem(await inject({ method: 'POST', url: '/api/v1/applications', headers: bob.headers, payload: applicationBody(late) }), 409, 'deadline-passed');
    json(await transition(late, 'closed'), 200);
    problem(await act(alice, app.id, 'submit'), 409, 'deadline-passed');
  });

  it('withdraws before allocation from every state, and never after', async () => {
    const fromDraft = await draft(alice);
    expect(json<Application>(await act(alice, fromDraft.id, 'withdraw', { reason: 'changed plans' }), 200).state).toBe('withdrawn');
    problem(await act(alice, fromDraft.id, 'withdraw'), 409, 'invalid-state');
    problem(await act(alice, fromDraft.id, 'submit'), 409, 'invalid-state');

    const call = await openCall(server.app, world);
    const submitted = await submitApplication(server.app, alice, call);
    const inReview = await submitApplication(server.app, alice, call);
    const approved = await submitApplication(server.app, bob, call);
    const allocated = await submitApplication(server.app, bob, call);
    const partial = await submitApplication(server.app, bob, call);
    const rejected = await submitApplication(server.app, bob, call);
    expect(json<Application>(await act(alice, submitted, 'withdraw'), 200).state).toBe('withdrawn');
    json(await transition(call, 'closed'), 200);
    json(await transition(call, 'in_review'), 200);
    expect(json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${inReview}`, headers: alice.headers }), 200).state).toBe('in_review');
    for (const id of [approved, allocated]) json(await act(world.chair, id, 'decision', { outcome: 'approved', rationale: 'Strong case' }), 200);
    expect(json<Application>(await act(alice, inReview, 'withdraw'), 200).state).toBe('withdrawn');
    expect(json<Application>(await act(bob, approved, 'withdraw'), 200).state).toBe('withdrawn');
    json(await act(world.chair, partial, 'decision', { outcome: 'partially_approved', rationale: 'Less', approvedItems: [{ kind: 'scooped', quantity: '0.5' }] }), 200);
    json(await act(world.chair, rejected, 'decision', { outcome: 'rejected', rationale: 'No' }), 200);
    expect(json<Application>(await act(bob, partial, 'withdraw'), 200).state).toBe('withdrawn');
    expect(json<Application>(await act(bob, rejected, 'withdraw'), 200).state).toBe('withdrawn');
    problem(await act(world.chair, rejected, 'decision', { outcome: 'approved', rationale: 'too late' }), 409, 'invalid-state');

    const { applications } = server.context.services;
    const advance = (id: string, to: Parameters<typeof applications.advance>[3]) => inTransaction(server.context.handle.db, (tx) => applications.advance(tx, systemActor, id, to));
    await expect(advance(allocated, 'shipped')).rejects.toMatchObject({ code: 'invalid-state' });
    await advance(allocated, 'allocated');
    const refused = problem(await act(bob, allocated, 'withdraw'), 409, 'invalid-state');
    expect(refused.detail).toContain('before allocation');
    await expect(advance(allocated, 'received')).rejects.toMatchObject({ code: 'invalid-state' });
    for (const to of ['shipped', 'received', 'reporting', 'closed'] as const) await advance(allocated, to);
    const closed = json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${allocated}`, headers: bob.headers }), 200);
    expect(closed).toMatchObject({ state: 'closed', decision: { outcome: 'approved' } });
    await expect(advance(allocated, 'allocated')).rejects.toMatchObject({ code: 'invalid-state' });
    const steps = await server.context.handle.db.selectFrom('audit_events').select('data').where('entity_id', '=', allocated).where('action', '=', 'application.transition').orderBy('seq').execute();
    expect(steps.map((e) => (e.data as { to: string }).to)).toEqual(['in_review', 'allocated', 'shipped', 'received', 'reporting', 'closed']);
  });

  it('decides with a rationale for the committee and a letter for the applicant', async () => {
    const call = await openCall(server.app, world);
    const full = await submitApplication(server.app, alice, call, { items: [{ kind: 'scooped', quantity: '2', minimum: '1' }, { kind: 'drilled', quantity: '1', minimum: '0.5' }] });
    const partial = await submitApplication(server.app, bob, call, { items: [{ kind: 'scooped', quantity: '2', minimum: '1' }, { kind: 'drilled', quantity: '1', minimum: '0.5' }] });
    const rejected = await submitApplication(server.app, bob, call);
    problem(await act(world.chair, full, 'decision', { outcome: 'approved', rationale: 'x' }), 409, 'invalid-state');
    json(await transition(call, 'closed'), 200);
    json(await transition(call, 'in_review'), 200);
    problem(await act(alice, full, 'decision', { outcome: 'approved', rationale: 'self-approved' }), 403, 'forbidden');
    problem(await act(world.curator, full, 'decision', { outcome: 'approved', rationale: 'x' }), 403, 'forbidden');
    // Deciding the call waits for every application.
    expect(problem(await transition(call, 'decided'), 409, 'invalid-state').detail).toContain('3 application(s)');

    json(await act(world.chair, full, 'decision', { outcome: 'approved', rationale: 'Top ranked', letter: 'Congratulations: approved in full.' }), 200);
    expect(problem(await act(world.chair, partial, 'decision', { outcome: 'partially_approved', rationale: 'r', approvedItems: [{ kind: 'scooped', quantity: '0.5' }] }), 400).errors[0]!.field).toBe('approvedItems.0.quantity');
    const part = json<Application>(await act(world.chair, partial, 'decision', { outcome: 'partially_approved', rationale: 'Scooped only', approvedItems: [{ kind: 'scooped', quantity: '1.5' }] }), 200);
    expect(part.items.map((i) => [i.kind, i.approved])).toEqual([['scooped', '1.5000'], ['drilled', '0.0000']]);
    json(await act(world.chair, rejected, 'decision', { outcome: 'rejected', rationale: 'Out of scope' }), 200);
    // A decision can be revised while the call is in review.
    json(await act(world.chair, rejected, 'decision', { outcome: 'rejected', rationale: 'Out of scope; overlaps another study' }), 200);

    const letter = json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${full}`, headers: alice.headers }), 200).decision!;
    expect(letter).toMatchObject({ outcome: 'approved', letter: 'Congratulations: approved in full.' });
    expect(letter.rationale).toBeUndefined();
    expect(json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${full}`, headers: world.chair.headers }), 200).decision!.rationale).toBe('Top ranked');
    expect(json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${rejected}`, headers: bob.headers }), 200).decision!.letter).toContain('was not approved');

    json(await transition(call, 'decided'), 200);
    problem(await act(world.chair, rejected, 'decision', { outcome: 'approved', rationale: 'late change' }), 409, 'invalid-state');
    const approvedForCall = await server.context.services.applications.approvedForCall(call);
    expect(approvedForCall.map((a) => [a.applicationId, a.decision]).sort()).toEqual([[full, 'approved'], [partial, 'partially_approved']].sort());
    expect(approvedForCall.find((a) => a.applicationId === partial)!.items).toEqual([
      { kind: 'scooped', quantity: 20_000n, minimum: 10_000n, approved: 15_000n },
      { kind: 'drilled', quantity: 10_000n, minimum: 5_000n, approved: 0n },
    ]);

    const notes = json<{ items: Array<{ kind: string; entityId: string }> }>(await inject({ method: 'GET', url: '/api/v1/notifications?limit=200', headers: alice.headers }), 200);
    expect(notes.items.filter((n) => n.entityId === full).map((n) => n.kind).sort()).toEqual(['application.decided', 'application.submitted']);
  });

  it('stores PDF attachments safely and serves them as downloads', async () => {
    // An open (not blind) call keeps the file byte for byte.
    const app = await draft(alice, {}, await openCall(server.app, world, { blind: false }));
    const upload = (who: SignedIn, body: Buffer, name = '../../etc/passwd Proposal.pdf', type = 'application/pdf') =>
      inject({ method: 'POST', url: `/api/v1/applications/${app.id}/attachments?name=${encodeURIComponent(name)}`, headers: { ...who.headers, 'content-type': type }, payload: body });
    const saved = json<{ id: string; name: string; sizeBytes: number }>(await upload(alice, PDF), 201);
    expect(saved.name).toBe('passwd Proposal.pdf');
    expect(saved.sizeBytes).toBe(PDF.length);
    expect(problem(await upload(alice, Buffer.from('MZ\x90\x00 not a pdf')), 415, 'unsupported-media-type').detail).toContain('%PDF-');
    problem(await upload(alice, PDF, 'x.pdf', 'image/png'), 415, 'unsupported-media-type');
    problem(await upload(alice, Buffer.concat([PDF, Buffer.alloc(10 * 1024 * 1024)])), 413, 'payload-too-large');
    problem(await upload(bob, PDF), 404, 'not-found');
    problem(await upload(world.chair, PDF), 404, 'not-found');
    problem(await inject({ method: 'POST', url: `/api/v1/applications/${app.id}/attachments`, headers: { ...alice.headers, 'content-type': 'application/json' }, payload: { file: 'x' } }), 415, 'unsupported-media-type');

    const download = await inject({ method: 'GET', url: `/api/v1/applications/${app.id}/attachments/${saved.id}`, headers: alice.headers });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/pdf');
    expect(download.headers['content-disposition']).toMatch(/^attachment; filename="passwd Proposal.pdf"/);
    expect(download.rawPayload.equals(PDF)).toBe(true);
    problem(await inject({ method: 'GET', url: `/api/v1/applications/${app.id}/attachments/${saved.id}`, headers: bob.headers }), 404, 'not-found');
    expect(json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${app.id}`, headers: alice.headers }), 200).attachments).toHaveLength(1);
    problem(await inject({ method: 'DELETE', url: `/api/v1/applications/${app.id}/attachments/${saved.id}`, headers: bob.headers }), 404, 'not-found');
    problem(await inject({ method: 'DELETE', url: `/api/v1/applications/${app.id}/attachments/00000000-0000-4000-8000-000000000000`, headers: alice.headers }), 404, 'not-found');
    problem(await inject({ method: 'DELETE', url: `/api/v1/applications/${app.id}/attachments/not-a-uuid`, headers: alice.headers }), 400, 'validation-failed');
    expect((await inject({ method: 'DELETE', url: `/api/v1/applications/${app.id}/attachments/${saved.id}`, headers: alice.headers })).statusCode).toBe(204);
    expect(json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${app.id}`, headers: alice.headers }), 200).attachments).toHaveLength(0);
  });

  it('in a blind call, removes what a PDF says about its author before storing it, and refuses a file it cannot clean', async () => {
    const app = await draft(alice); // the default test call is blind
    const upload = (body: Buffer) => inject({ method: 'POST', url: `/api/v1/applications/${app.id}/attachments?name=cv.pdf`, headers: { ...alice.headers, 'content-type': 'application/pdf' }, payload: body });
    const original = await pdfWithAuthor(alice.name);
    const saved = json<{ id: string; sizeBytes: number; sha256: string }>(await upload(original), 201);
    const stored = (await inject({ method: 'GET', url: `/api/v1/applications/${app.id}/attachments/${saved.id}`, headers: alice.headers })).rawPayload;
    expect(stored.toString('latin1')).not.toContain(alice.name);
    expect((await PDFDocument.load(stored)).getPageCount()).toBe(1);
    // What is listed describes what is stored.
    expect(saved.sizeBytes).toBe(stored.length);
    expect(saved.sha256).toBe(crypto.createHash('sha256').update(stored).digest('hex'));
    // A file that cannot be cleaned is refused, not stored as it is.
    expect(problem(await upload(PDF), 415, 'unsupported-media-type').errors[0]).toEqual({ field: 'body', message: 'is not a readable PDF' });
    expect(json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${app.id}`, headers: alice.headers }), 200).attachments).toHaveLength(1);
    // Attachments change only on a draft.
    json(await act(alice, app.id, 'submit'), 200);
    problem(await upload(original), 409, 'invalid-state');
    problem(await inject({ method: 'DELETE', url: `/api/v1/applications/${app.id}/attachments/${saved.id}`, headers: alice.headers }), 409, 'invalid-state');
  });

  it('counts applications, institutions and approvals, by direction and institution, with a CSV export', async () => {
    const call = await openCall(server.app, world);
    const carol = await newApplicant(server.app, server.context, alice.institution);
    const a1 = await submitApplication(server.app, alice, call);
    await submitApplication(server.app, carol, call, { researchDirection: 'evolution of the Moon' });
    const b1 = await submitApplication(server.app, bob, call);
    await draft(bob, {}, call);
    const withdrawn = await submitApplication(server.app, bob, call);
    json(await act(bob, withdrawn, 'withdraw'), 200);
    json(await transition(call, 'closed'), 200);
    json(await transition(call, 'in_review'), 200);
    json(await act(world.chair, a1, 'decision', { outcome: 'approved', rationale: 'good' }), 200);
    json(await act(world.chair, b1, 'decision', { outcome: 'rejected', rationale: 'weak' }), 200);

    const stats = json<Record<string, unknown>>(await inject({ method: 'GET', url: `/api/v1/calls/${call}/statistics`, headers: world.chair.headers }), 200);
    expect(stats).toMatchObject({ applications: 3, applicantInstitutions: 2, approved: 1, approvedInstitutions: 1, distributed: { quantity: '0.0000', unit: 'g', byKind: {} } });
    expect(stats.byResearchDirection).toEqual([
      { direction: 'age of lunar volcanism', applications: 2, approved: 1, distributed: '0.0000', distributedByKind: {} },
      { direction: 'evolution of the Moon', applications: 1, approved: 0, distributed: '0.0000', distributedByKind: {} },
    ]);
    expect(stats.byInstitution).toEqual([
      { institutionId: alice.institution.id, code: alice.institution.code, name: alice.institution.name, applications: 2, approved: 1, distributed: '0.0000', distributedByKind: {} },
      { institutionId: bob.institution.id, code: bob.institution.code, name: bob.institution.name, applications: 1, approved: 0, distributed: '0.0000', distributedByKind: {} },
    ]);
    const publicView = json<Record<string, unknown>>(await inject({ method: 'GET', url: `/api/v1/calls/${call}/statistics`, headers: bob.headers }), 200);
    expect(publicView.applications).toBe(3);
    expect(publicView.byInstitution).toBeUndefined();

    const csv = await inject({ method: 'GET', url: `/api/v1/calls/${call}/statistics.csv`, headers: world.auditor.headers });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('section,key,name,applications,approved');
    expect(lines).toContain('total,applications,,3,1');
    expect(lines).toContain(`institution,${alice.institution.code},${alice.institution.name},2,1`);
    problem(await inject({ method: 'GET', url: `/api/v1/calls/${call}/statistics.csv`, headers: bob.headers }), 403, 'forbidden');
    const draftCall = json<{ id: string }>(await inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world) }), 201);
    problem(await inject({ method: 'GET', url: `/api/v1/calls/${draftCall.id}/statistics`, headers: bob.headers }), 404, 'not-found');
  });
  it('moves a decision between outcomes while the call is in review, and refuses decisions that cannot be', async () => {
    const call = await openCall(server.app, world);
    const id = await submitApplication(server.app, alice, call, { items: [{ kind: 'scooped', quantity: '2', minimum: '1' }] });
    const gone = await submitApplication(server.app, bob, call);
    const unsent = await draft(bob, {}, call);
    json(await transition(call, 'closed'), 200);
    json(await transition(call, 'in_review'), 200);
    json(await act(bob, gone, 'withdraw'), 200);
    const decide = (target: string, payload: unknown) => act(world.chair, target, 'decision', payload);

    // Bad input names the field and changes nothing.
    expect(problem(await decide(id, { outcome: 'maybe', rationale: 'x' }), 400, 'validation-failed').errors[0]!.field).toBe('outcome');
    expect(problem(await decide(id, { outcome: 'approved' }), 400, 'validation-failed').errors[0]!.field).toBe('rationale');
    expect(problem(await decide(id, { outcome: 'approved', rationale: '   ' }), 400, 'validation-failed').errors[0]!.field).toBe('rationale');
    expect(problem(await decide(id, { outcome: 'partially_approved', rationale: 'r', approvedItems: [{ kind: 'drilled', quantity: '1' }] }), 400).errors[0]!.field).toBe('approvedItems.0.kind');
    expect(problem(await decide(id, { outcome: 'partially_approved', rationale: 'r', approvedItems: [{ kind: 'scooped', quantity: '0.00001' }] }), 400, 'invalid-quantity').errors[0]!.field).toBe('approvedItems.0.quantity');
    expect(problem(await decide(id, { outcome: 'partially_approved', rationale: 'r', approvedItems: [{ kind: 'scooped', quantity: '0' }] }), 400).errors[0]!.field).toBe('approvedItems');
    expect(problem(await decide(id, { outcome: 'partially_approved', rationale: 'r' }), 400).errors[0]!.field).toBe('approvedItems');
    expect(problem(await decide(id, { outcome: 'approved', rationale: 'r', approvedItems: [{ kind: 'scooped', quantity: '1' }] }), 400).errors[0]!.field).toBe('approvedItems');
    expect(problem(await decide(id, { outcome: 'rejected', rationale: 'r', approvedItems: [{ kind: 'scooped', quantity: '1' }] }), 400).errors[0]!.field).toBe('approvedItems');
    expect(json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${id}`, headers: world.chair.headers }), 200).state).toBe('in_review');

    // Every move between outcomes is allowed until the call is decided, and each is audited.
    const path: Array<[string, Record<string, unknown>]> = [
      ['approved', {}],
      ['partially_approved', { approvedItems: [{ kind: 'scooped', quantity: '1' }] }],
      ['rejected', {}],
      ['approved', {}],
      ['rejected', {}],
      ['partially_approved', { approvedItems: [{ kind: 'scooped', quantity: '1.5' }] }],
    ];
    for (const [outcome, extra] of path) expect(json<Application>(await decide(id, { outcome, rationale: `now ${outcome}`, ...extra }), 200).state).toBe(outcome);
    const decided = json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${id}`, headers: world.chair.headers }), 200);
    expect(decided.items[0]!.approved).toBe('1.5000');
    expect(decided.decision).toMatchObject({ outcome: 'partially_approved', rationale: 'now partially_approved' });
    const audited = await server.context.handle.db.selectFrom('audit_events').select('data').where('entity_id', '=', id).where('action', '=', 'application.decide').orderBy('seq').execute();
    expect(audited.map((e) => (e.data as { outcome: string }).outcome)).toEqual(path.map(([o]) => o));

    // Refused: a withdrawn application, a draft (404: the chair cannot see it), a stranger's id.
    expect(problem(await decide(gone, { outcome: 'approved', rationale: 'r' }), 409, 'invalid-state').detail).toContain('withdrawn');
    problem(await decide(unsent.id, { outcome: 'approved', rationale: 'r' }), 404, 'not-found');
    problem(await decide('00000000-0000-4000-8000-000000000000', { outcome: 'approved', rationale: 'r' }), 404, 'not-found');
    for (const who of [alice, world.curator, world.auditor, world.reviewers[0]!]) problem(await act(who, id, 'decision', { outcome: 'approved', rationale: 'r' }), 403, 'forbidden');
  });

  it('refuses bad edits and queries naming the field, and changes nothing', async () => {
    const created = await draft(alice);
    const patch = (payload: object) => inject({ method: 'PATCH', url: `/api/v1/applications/${created.id}`, headers: alice.headers, payload });
    expect(problem(await patch({ items: [{ kind: 'scooped', quantity: 'lots' }] }), 400, 'invalid-quantity').errors[0]!.field).toBe('items.0.quantity');
    expect(problem(await patch({ items: [{ kind: 'scooped', quantity: '1' }, { kind: 'scooped', quantity: '2' }] }), 400).errors[0]!.field).toBe('items.1.kind');
    expect(problem(await patch({ researchDirection: 'astrology' }), 400).errors[0]!.field).toBe('researchDirection');
    expect(problem(await patch({ team: [{ name: '' }] }), 400).errors[0]!.field).toBe('team.0.name');
    expect(problem(await patch({ destructive: 'yes' }), 400).errors[0]!.field).toBe('destructive');
    expect(problem(await patch({ applicantId: bob.user.id }), 400).errors[0]!.field).toBeDefined();
    const after = json<Application & { title: string }>(await inject({ method: 'GET', url: `/api/v1/applications/${created.id}`, headers: alice.headers }), 200);
    expect(after.items).toEqual(created.items);
    expect(after.applicantId).toBe(alice.user.id);
    expect(problem(await inject({ method: 'GET', url: '/api/v1/applications?limit=500', headers: alice.headers }), 400).errors[0]!.field).toBe('limit');
    expect(problem(await inject({ method: 'GET', url: '/api/v1/applications?state=pending', headers: alice.headers }), 400).errors[0]!.field).toBe('state');
    expect(problem(await inject({ method: 'GET', url: '/api/v1/applications/not-a-uuid', headers: alice.headers }), 400).errors[0]!.field).toBe('id');
    expect(problem(await inject({ method: 'POST', url: '/api/v1/applications', headers: alice.headers, payload: applicationBody('00000000-0000-4000-8000-000000000000') }), 404, 'not-found').errors[0]!.field).toBe('callId');
    const events = await server.context.handle.db.selectFrom('audit_events').select('action').where('entity_id', '=', created.id).execute();
    expect(events.map((e) => e.action)).toEqual(['application.create']);
  });

  it('lets a later feature close the door on applicants with overdue obligations', async () => {
    const { applications } = server.context.services;
    const early = await draft(alice);
    const asked: string[] = [];
    applications.useApplyGate(async (applicantId, { callId: gateCall }) => {
      asked.push(`${applicantId}/${gateCall}`);
      return applicantId === alice.user.id ? { allowed: false, message: 'A result report for an earlier loan is overdue; file it before applying again.', extensions: { overdue: 1 } } : { allowed: true };
    });
    try {
      const refused = problem(await inject({ method: 'POST', url: '/api/v1/applications', headers: alice.headers, payload: applicationBody(callId) }), 403, 'forbidden');
      expect(refused.detail).toContain('overdue');
      expect((refused as unknown as { overdue: number }).overdue).toBe(1);
      // A draft made before the obligation fell due cannot be submitted either.
      problem(await act(alice, early.id, 'submit'), 403, 'forbidden');
      expect(json<Application>(await inject({ method: 'GET', url: `/api/v1/applications/${early.id}`, headers: alice.headers }), 200).state).toBe('draft');
      // Others are not affected.
      await submitApplication(server.app, bob, callId);
      expect(asked).toContain(`${alice.user.id}/${callId}`);
      expect(asked).toContain(`${bob.user.id}/${callId}`);
    } finally {
      applications.useApplyGate(async () => ({ allowed: true }));
    }
    expect(json<Application>(await act(alice, early.id, 'submit'), 200).state).toBe('submitted');
  });

  it('reports distributed quantities in the statistics once distribution supplies them', async () => {
    const call = await openCall(server.app, world);
    const { applications } = server.context.services;
    applications.useDistributedOf(async (id) =>
      id === call
        ? [
            { kind: 'scooped', institution_id: alice.institution.id, research_direction: 'age of lunar volcanism', quantity: 174_760n },
            { kind: 'scooped', institution_id: alice.institution.id, research_direction: 'age of lunar volcanism', quantity: '4' },
            { kind: 'drilled', institution_id: alice.institution.id, research_direction: null, quantity: 1n },
          ]
        : [],
    );
    try {
      const stats = json<{ distributed: { quantity: string; unit: string; byKind: Record<string, string> }; byInstitution?: unknown[] }>(await inject({ method: 'GET', url: `/api/v1/calls/${call}/statistics`, headers: alice.headers }), 200);
      expect(stats.distributed).toEqual({ quantity: '17.4765', unit: 'g', byKind: { drilled: '0.0001', scooped: '17.4764' } });
      // An open call: the per-institution split waits for the decision, except for the committee.
      expect(stats.byInstitution).toBeUndefined();
      const chair = json<{ byInstitution: Array<{ institutionId: string; distributed: string; distributedByKind: Record<string, string> }> }>(await inject({ method: 'GET', url: `/api/v1/calls/${call}/statistics`, headers: world.chair.headers }), 200);
      expect(chair.byInstitution).toEqual([]); // nobody applied to this call; the rows come from applications
      const anonymous = json<{ distributed: { quantity: string } }>(await inject({ method: 'GET', url: `/api/v1/calls/${call}/statistics` }), 200);
      expect(anonymous.distributed.quantity).toBe('17.4765');
      const csv = (await inject({ method: 'GET', url: `/api/v1/calls/${call}/statistics.csv`, headers: world.chair.headers })).body.split('\r\n');
      expect(csv).toContain('total,distributed (g),,17.4765,');
      expect(csv).toContain('distributed,scooped,,17.4764,');
      expect(json<{ distributed: { quantity: string } }>(await inject({ method: 'GET', url: `/api/v1/calls/${callId}/statistics`, headers: alice.headers }), 200).distributed.quantity).toBe('0.0000');
    } finally {
      applications.useDistributedOf(async () => []);
    }
  });
  it('closes a call when its closing date passes, audited as the system, and tells the chair to assign reviewers', async () => {
    const due = await openCall(server.app, world, { closesAt: new Date(Date.now() + 60 * 60_000).toISOString() });
    const later = await openCall(server.app, world, { closesAt: new Date(Date.now() + 48 * 3600_000).toISOString() });
    await submitApplication(server.app, alice, due);
    await draft(bob, {}, due);
    const { calls } = server.context.services;
    expect(await calls.closeDue(new Date())).not.toContain(due);
    const closed = await calls.closeDue(new Date(Date.now() + 2 * 3600_000));
    expect(closed).toContain(due);
    expect(closed).not.toContain(later);
    expect(await calls.closeDue(new Date(Date.now() + 2 * 3600_000))).not.toContain(due);
    expect(json<{ state: string }>(await inject({ method: 'GET', url: `/api/v1/calls/${due}`, headers: alice.headers }), 200).state).toBe('closed');
    expect(json<{ state: string }>(await inject({ method: 'GET', url: `/api/v1/calls/${later}`, headers: alice.headers }), 200).state).toBe('open');
    const event = await server.context.handle.db.selectFrom('audit_events').select(['actor_id', 'data']).where('entity_id', '=', due).where('action', '=', 'call.transition').orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(event.actor_id).toBeNull();
    expect(event.data).toMatchObject({ from: 'open', to: 'closed' });
    const notes = json<{ items: Array<{ kind: string; entityId: string; body: string }> }>(await inject({ method: 'GET', url: '/api/v1/notifications?limit=200', headers: world.chair.headers }), 200).items.filter((n) => n.kind === 'call.closed' && n.entityId === due);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.body).toContain('1 submitted application(s)');
    // A chair closing a call by hand is not told what they just did.
    json(await transition(later, 'closed'), 200);
    expect(json<{ items: Array<{ kind: string; entityId: string }> }>(await inject({ method: 'GET', url: '/api/v1/notifications?limit=200', headers: world.chair.headers }), 200).items.filter((n) => n.kind === 'call.closed' && n.entityId === later)).toHaveLength(0);
  });
});
