/**
 * Test data for calls, applications and review. Collections and samples are
 * written straight into the inventory's tables (the inventory service is
 * another feature); everything else goes through HTTP.
 */
import crypto from 'node:crypto';
import { PDFDocument, PDFName, PDFString, type PDFDict } from 'pdf-lib';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Context } from '../../compose.js';
import { createInstitution, signIn, unique, type SignedIn } from '../../../test/factories.js';

export async function seedCollection(context: Context, options: { humanConsent?: boolean; scale?: number; unit?: 'g' | 'mg' | 'mL' | 'count' } = {}) {
  const id = crypto.randomUUID();
  await context.handle.db
    .insertInto('collections')
    .values({ id, code: unique('C').toUpperCase(), name: 'Returned lunar samples', unit: options.unit ?? 'g', scale: options.scale ?? 4, human_consent: options.humanConsent ?? false, kinds: ['scooped', 'drilled'] })
    .execute();
  return id;
}

export async function seedSample(context: Context, collectionId: string, kind: string, quantity: bigint, state: 'available' | 'quarantined' = 'available') {
  const id = crypto.randomUUID();
  await context.handle.db
    .insertInto('samples')
    .values({ id, collection_id: collectionId, identifier: unique('CE5C').toUpperCase(), kind, quantity: quantity.toString(), reserved: '0', state, parent_id: null, root_id: id, location_id: null, position: null, attributes: '{}' })
    .execute();
  return id;
}

export function json<T = Record<string, unknown>>(response: LightMyRequestResponse, status: number): T {
  if (response.statusCode !== status) throw new Error(`expected ${status}, got ${response.statusCode}: ${response.body}`);
  return response.json() as T;
}

export const hours = (n: number): string => new Date(Date.now() + n * 3600_000).toISOString();

export interface World {
  collectionId: string;
  samples: { scooped: string[]; drilled: string[] };
  chair: SignedIn;
  curator: SignedIn;
  auditor: SignedIn;
  reviewers: SignedIn[];
  institutions: string[];
}

/** A collection with scooped and drilled samples, a chair, a curator, an auditor and reviewers at their own institutions. */
export async function buildWorld(app: FastifyInstance, context: Context, options: { reviewers?: number; humanConsent?: boolean } = {}): Promise<World> {
  const collectionId = await seedCollection(context, { humanConsent: options.humanConsent ?? false });
  const scooped = [await seedSample(context, collectionId, 'scooped', 1_000_000n), await seedSample(context, collectionId, 'scooped', 600_000n)];
  const drilled = [await seedSample(context, collectionId, 'drilled', 400_000n)];
  const reviewers: SignedIn[] = [];
  for (let i = 0; i < (options.reviewers ?? 4); i++) reviewers.push(await signIn(app, context, ['reviewer']));
  return {
    collectionId,
    samples: { scooped, drilled },
    chair: await signIn(app, context, ['chair']),
    curator: await signIn(app, context, ['curator']),
    auditor: await signIn(app, context, ['auditor']),
    reviewers,
    institutions: [],
  };
}

export function callBody(world: World, overrides: Record<string, unknown> = {}) {
  return {
    collectionId: world.collectionId,
    title: `First release batch ${unique()}`,
    opensAt: hours(-1),
    closesAt: hours(24),
    reviewDeadline: hours(24 * 14),
    blind: true,
    reviewersPerApplication: 2,
    researchDirections: ['age of lunar volcanism', 'evolution of the Moon'],
    rubric: { scaleMin: 1, scaleMax: 5, criteria: [{ key: 'merit', name: 'Scientific merit', weight: 3 }, { key: 'feasibility', name: 'Feasibility', weight: 1 }] },
    panel: world.reviewers.map((r) => r.user.id),
    ...overrides,
  };
}

/** A call with a pool of every seeded sample, opened. */
export async function openCall(app: FastifyInstance, world: World, overrides: Record<string, unknown> = {}) {
  const call = json<{ id: string }>(await app.inject({ method: 'POST', url: '/api/v1/calls', headers: world.chair.headers, payload: callBody(world, overrides) }), 201);
  json(await app.inject({ method: 'PUT', url: `/api/v1/calls/${call.id}/pool`, headers: world.curator.headers, payload: { sampleIds: [...world.samples.scooped, ...world.samples.drilled] } }), 200);
  json(await app.inject({ method: 'POST', url: `/api/v1/calls/${call.id}/transitions`, headers: world.chair.headers, payload: { to: 'open' } }), 200);
  return call.id;
}

export interface Applicant extends SignedIn {
  name: string;
  institution: { id: string; code: string; name: string };
}

export async function newApplicant(app: FastifyInstance, context: Context, institution?: { id: string; code: string; name: string }): Promise<Applicant> {
  const inst = institution ?? (await createInstitution(context, `Institute of Geochemistry ${unique()}`));
  const signed = await signIn(app, context, ['applicant'], inst.id);
  const me = json<{ name: string }>(await app.inject({ method: 'GET', url: '/api/v1/me', headers: signed.headers }), 200);
  return { ...signed, name: me.name, institution: { id: inst.id, code: inst.code, name: inst.name } };
}

export function applicationBody(callId: string, overrides: Record<string, unknown> = {}) {
  return {
    callId,
    title: 'Crystallisation ages of mare basalt fragments',
    researchDirection: 'age of lunar volcanism',
    methods: 'SIMS Pb-Pb dating of baddeleyite',
    destructive: true,
    justification: 'The young basalts constrain late lunar volcanism.',
    items: [{ kind: 'scooped', quantity: '1.5000', minimum: '0.5000' }],
    team: [{ name: 'Zhang Wen', role: 'co-investigator' }],
    publications: [{ citation: 'Li et al. 2021, Nature' }],
    ...overrides,
  };
}

/** Creates and submits an application; returns its id. */
export async function submitApplication(app: FastifyInstance, applicant: SignedIn, callId: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const created = json<{ id: string }>(await app.inject({ method: 'POST', url: '/api/v1/applications', headers: applicant.headers, payload: applicationBody(callId, overrides) }), 201);
  json(await app.inject({ method: 'POST', url: `/api/v1/applications/${created.id}/submit`, headers: applicant.headers }), 200);
  return created.id;
}

/** A PDF that names its author in the info dictionary, the XMP stream, a comment and an earlier revision. */
export async function pdfWithAuthor(name: string, options: { objectStreams?: boolean } = {}): Promise<Buffer> {
  const document = await PDFDocument.create({ updateMetadata: false });
  const page = document.addPage();
  page.drawText('Proposal: space weathering of agglutinates');
  document.setTitle('Proposal');
  const info = document.context.lookup(document.context.trailerInfo.Info) as PDFDict;
  info.set(PDFName.of('Author'), PDFString.of(name));
  info.set(PDFName.of('Creator'), PDFString.of(`Word for ${name}`));
  document.catalog.set(PDFName.of('Metadata'), document.context.register(document.context.stream(`<x:xmpmeta><dc:creator>${name}</dc:creator></x:xmpmeta>`, { Type: 'Metadata', Subtype: 'XML' })));
  const comment = document.context.obj({ Type: 'Annot', Subtype: 'Text', Rect: [0, 0, 10, 10], T: PDFString.of(name), Contents: PDFString.of('check this') });
  page.node.set(PDFName.of('Annots'), document.context.obj([document.context.register(comment)]));
  // An earlier author left behind in an unreferenced object, as incremental saves do.
  document.context.register(document.context.obj({ Author: PDFString.of(name) }));
  return Buffer.from(await document.save({ useObjectStreams: options.objectStreams ?? false }));
}

