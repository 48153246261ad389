/**
 * The agreed shapes of endpoints that are not in the generated schema yet
 * (inventory: collections, locations, samples), written in the same
 * form openapi-typescript emits. client.ts prefers the generated schema: once
 * a route exists on the server and `npm run gen:api` has run, its generated
 * type replaces the entry here (and tsc checks the pages against it).
 */
export type Unit = 'g' | 'mg' | 'mL' | 'count';
export type SampleState = 'available' | 'reserved' | 'on_loan' | 'in_transit' | 'returned' | 'consumed' | 'destroyed' | 'quarantined';
export const sampleStates: SampleState[] = ['available', 'reserved', 'on_loan', 'in_transit', 'returned', 'consumed', 'destroyed', 'quarantined'];
export type LocationKind = 'site' | 'room' | 'freezer' | 'cabinet' | 'rack' | 'shelf' | 'box';

export interface Collection {
  id: string;
  code: string;
  name: string;
  description: string | null;
  unit: Unit;
  scale: number;
  humanConsent: boolean;
  kinds: string[];
  biosafetyLevel: number | null;
  institutionId: string | null;
  createdAt: string;
}
export interface CollectionSummary {
  samples: number;
  quantity: string;
  unit: Unit;
  byKind: Record<string, { samples: number; quantity: string }>;
}
export interface Location {
  id: string;
  parentId: string | null;
  kind: LocationKind;
  code: string;
  name: string;
  rows: number | null;
  cols: number | null;
  path: string;
}
export interface LocationDetail extends Location {
  children: Location[];
  occupancy: Array<{ position: string; sampleId: string; identifier: string }>;
}
export interface Sample {
  id: string;
  identifier: string;
  collectionId: string;
  kind: string;
  quantity: string;
  reserved: string;
  available: string;
  unit: Unit;
  state: SampleState;
  parentId: string | null;
  rootId: string;
  locationId: string | null;
  position: string | null;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}
export interface Movement {
  id: string;
  sampleId: string;
  kind: string;
  delta: string;
  reservedDelta: string;
  quantityAfter: string;
  reservedAfter: string;
  counterpartId: string | null;
  reservationId: string | null;
  stateAfter: string;
  reason: string | null;
  actorId: string | null;
  occurredAt: string;
}
export interface Lineage {
  ancestors: Sample[];
  descendants: Array<Sample & { depth: number }>;
}
export interface SplitInput {
  parts: Array<{ quantity: string; kind?: string; identifier?: string; locationId?: string; position?: string }>;
  loss?: string;
  reason: string;
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type Json<T> = { content: { 'application/json': T } };
type Params<Q = never, P = never> = { query?: Q; path: P extends never ? never : P };
interface Get<R, Q = never, P = never> {
  parameters: Params<Q, P>;
  responses: { 200: Json<R> };
}
interface Post<B, R, P = never, Status extends 200 | 201 = 201> {
  parameters: Params<never, P>;
  requestBody: Json<B>;
  responses: { [S in Status]: Json<R> };
}
type Id = { id: string };
type PageQuery = { limit?: number; cursor?: string };

export interface ContractPaths {
  '/api/v1/collections': { get: Get<Page<Collection>, PageQuery> };
  '/api/v1/collections/{id}': { get: Get<Collection, never, Id> };
  '/api/v1/collections/{id}/summary': { get: Get<CollectionSummary, never, Id> };
  '/api/v1/locations': { get: Get<Page<Location>, PageQuery & { parentId?: string }> };
  '/api/v1/locations/{id}': { get: Get<LocationDetail, never, Id> };
  '/api/v1/samples': {
    get: Get<Page<Sample>, PageQuery & { collectionId?: string; kind?: string; state?: string; locationId?: string; q?: string }>;
  };
  '/api/v1/samples/{id}': { get: Get<Sample, never, Id> };
  '/api/v1/samples/{id}/movements': { get: Get<Page<Movement>, PageQuery, Id> };
  '/api/v1/samples/{id}/lineage': { get: Get<Lineage, never, Id> };
  '/api/v1/samples/{id}/split': { post: Post<SplitInput, { parent: Sample; children: Sample[] }, Id> };
  '/api/v1/samples/{id}/move': { post: Post<{ locationId: string | null; position?: string | null; reason?: string }, Sample, Id, 200> };
}
