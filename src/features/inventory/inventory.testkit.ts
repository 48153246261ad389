/** Test helpers for the inventory API: collections, locations and samples created through HTTP. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { unique, type SignedIn } from '../../../test/factories.js';

export interface SampleJson {
  id: string;
  identifier: string;
  collectionId: string;
  kind: string;
  quantity: string;
  reserved: string;
  available: string;
  unit: string;
  state: string;
  parentId: string | null;
  rootId: string;
  locationId: string | null;
  position: string | null;
  attributes: Record<string, unknown>;
  updatedAt: string;
}
export interface CollectionJson {
  id: string;
  code: string;
  unit: string;
  scale: number;
}
export interface ReservationJson {
  id: string;
  sampleId: string;
  quantity: string;
  state: string;
}

export function json<T>(response: LightMyRequestResponse, status: number): T {
  if (response.statusCode !== status) throw new Error(`expected ${status}, got ${response.statusCode}: ${response.body}`);
  return response.json() as T;
}

export async function newCollection(app: FastifyInstance, who: SignedIn, body: Record<string, unknown> = {}): Promise<CollectionJson> {
  const code = unique('C').toUpperCase();
  return json<CollectionJson>(
    await app.inject({ method: 'POST', url: '/api/v1/collections', headers: who.headers, payload: { code, name: `Collection ${code}`, unit: 'g', scale: 4, humanConsent: false, ...body } }),
    201,
  );
}

export async function newSample(app: FastifyInstance, who: SignedIn, collectionId: string, body: Record<string, unknown> = {}): Promise<SampleJson> {
  return json<SampleJson>(await app.inject({ method: 'POST', url: '/api/v1/samples', headers: who.headers, payload: { collectionId, kind: 'fines', quantity: '10.0000', ...body } }), 201);
}

export async function getSample(app: FastifyInstance, who: SignedIn, id: string): Promise<SampleJson> {
  return json<SampleJson>(await app.inject({ method: 'GET', url: `/api/v1/samples/${id}`, headers: who.headers }), 200);
}

/** Asserts that a sample is exactly as it was (quantity, reservation, state, place, update time). */
export async function expectUnchanged(app: FastifyInstance, who: SignedIn, before: SampleJson): Promise<void> {
  const after = await getSample(app, who, before.id);
  expect(after).toEqual(before);
}
