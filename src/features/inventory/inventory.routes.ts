import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idempotencyHeader, idParam } from '../../platform/http/schemas.js';
import * as s from './inventory.schemas.js';
import type { InventoryService } from './inventory.service.js';

const fhirSpecimen = z.looseObject({ resourceType: z.literal('Specimen'), id: z.string() }).describe('A FHIR R4 Specimen (application/fhir+json)');

export function inventoryRoutes(inventory: InventoryService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const collections = ['collections'];
    const locations = ['locations'];
    const samples = ['samples'];
    const key = (headers: { 'idempotency-key'?: string | undefined }) => ({ key: headers['idempotency-key'] });

    // ---- collections ----
    app.post('/collections', { schema: { tags: collections, summary: 'Create a collection with its unit and scale (admin or curator)', body: s.collectionInput, response: { 201: s.collection } } }, async (request, reply) =>
      reply.code(201).send(await inventory.createCollection(request.actor, request.body)),
    );
    app.get('/collections', { schema: { tags: collections, summary: 'Collections, by code', querystring: s.pageQuery, response: { 200: s.page(s.collection) } } }, async (request) =>
      inventory.listCollections(request.actor, request.query),
    );
    app.get('/collections/:id', { schema: { tags: collections, summary: 'A collection', params: idParam, response: { 200: s.collection } } }, async (request) =>
      inventory.getCollection(request.actor, request.params.id),
    );
    app.get('/collections/:id/summary', { schema: { tags: collections, summary: 'Samples and quantity held in a collection, by kind', params: idParam, response: { 200: s.collectionSummary } } }, async (request) =>
      inventory.collectionSummary(request.actor, request.params.id),
    );

    // ---- locations ----
    app.post('/locations', { schema: { tags: locations, summary: 'Add a storage location under a parent (site → room → freezer/cabinet → rack/shelf → box)', body: s.locationInput, response: { 201: s.location } } }, async (request, reply) =>
      reply.code(201).send(await inventory.createLocation(request.actor, request.body)),
    );
    app.get('/locations', { schema: { tags: locations, summary: 'Locations under a parent (sites when no parentId)', querystring: s.locationQuery, response: { 200: s.page(s.location) } } }, async (request) =>
      inventory.listLocations(request.actor, request.query),
    );
    app.get('/locations/:id', { schema: { tags: locations, summary: 'A location with its children and, for a box, which sample holds each position', params: idParam, response: { 200: s.locationDetail } } }, async (request) =>
      inventory.getLocation(request.actor, request.params.id),
    );

    // ---- samples ----
    app.post('/samples', { schema: { tags: samples, summary: 'Register a sample (curator)', headers: idempotencyHeader, body: s.sampleInput, response: { 201: s.sample } } }, async (request, reply) =>
      reply.code(201).send(await inventory.createSample(request.actor, request.body, key(request.headers))),
    );
    app.get('/samples', { schema: { tags: samples, summary: 'Search samples by collection, kind, state, location and identifier prefix (q); ordered by identifier', querystring: s.sampleQuery, response: { 200: s.page(s.sample) } } }, async (request) =>
      inventory.listSamples(request.actor, request.query),
    );
    app.get('/samples/:id', { schema: { tags: samples, summary: 'A sample', params: idParam, response: { 200: s.sample } } }, async (request) => inventory.getSample(request.actor, request.params.id));
    app.get('/samples/:id/movements', { schema: { tags: samples, summary: "The sample's ledger entries, oldest first", params: idParam, querystring: s.pageQuery, response: { 200: s.page(s.movement) } } }, async (request) =>
      inventory.movements(request.actor, request.params.id, request.query),
    );
    app.get('/samples/:id/lineage', { schema: { tags: samples, summary: 'Ancestors (root first) and descendants (by depth) of a sample', params: idParam, response: { 200: s.lineage } } }, async (request) =>
      inventory.lineage(request.actor, request.params.id),
    );
    app.get('/samples/:id/reservations', { schema: { tags: samples, summary: "The sample's reservations, oldest first", params: idParam, querystring: s.pageQuery, response: { 200: s.page(s.reservation) } } }, async (request) =>
      inventory.reservations(request.actor, request.params.id, request.query),
    );
    app.get('/samples/:id/fhir', { schema: { tags: samples, summary: 'The sample as a FHIR R4 Specimen (application/fhir+json)', params: idParam, response: { 200: fhirSpecimen } } }, async (request, reply) => {
      const body = await inventory.fhir(request.actor, request.params.id);
      // Already JSON text with exact decimals: bypass the schema serializer.
      return reply.type('application/fhir+json; charset=utf-8').serializer((payload) => payload as string).send(body as unknown as z.infer<typeof fhirSpecimen>);
    });
    app.post('/samples/:id/split', { schema: { tags: samples, summary: 'Split parts (and a recorded loss) off a sample; the parent keeps the remainder (curator)', params: idParam, headers: idempotencyHeader, body: s.splitInput, response: { 201: s.splitOutput } } }, async (request, reply) =>
      reply.code(201).send(await inventory.split(request.actor, request.params.id, request.body, key(request.headers))),
    );
    app.post('/samples/:id/reservations', { schema: { tags: samples, summary: 'Reserve part of the available quantity (409 insufficient-quantity when not enough is available)', params: idParam, headers: idempotencyHeader, body: s.reservationInput, response: { 201: s.reservation } } }, async (request, reply) =>
      reply.code(201).send(await inventory.reserve(request.actor, request.params.id, request.body, key(request.headers))),
    );
    app.delete('/reservations/:id', { schema: { tags: samples, summary: 'Release a reservation; its quantity is available again', params: idParam, headers: idempotencyHeader, response: { 200: s.reservation } } }, async (request) =>
      inventory.release(request.actor, request.params.id, key(request.headers)),
    );
    app.post('/samples/:id/consume', { schema: { tags: samples, summary: 'Record consumption of unreserved material (curator)', params: idParam, headers: idempotencyHeader, body: s.consumeInput, response: { 200: s.sample } } }, async (request) =>
      inventory.consume(request.actor, request.params.id, request.body, key(request.headers)),
    );
    app.post('/samples/:id/adjust', { schema: { tags: samples, summary: 'Correct the quantity by a signed delta, with a reason (curator)', params: idParam, headers: idempotencyHeader, body: s.adjustInput, response: { 200: s.sample } } }, async (request) =>
      inventory.adjust(request.actor, request.params.id, request.body, key(request.headers)),
    );
    app.post('/samples/:id/destroy', { schema: { tags: samples, summary: 'Destroy what is left of a sample (refused while reserved; curator)', params: idParam, headers: idempotencyHeader, body: s.destroyInput, response: { 200: s.sample } } }, async (request) =>
      inventory.destroy(request.actor, request.params.id, request.body, key(request.headers)),
    );
    app.post('/samples/:id/move', { schema: { tags: samples, summary: 'Move a sample to another location or box position (curator)', params: idParam, headers: idempotencyHeader, body: s.moveInput, response: { 200: s.sample } } }, async (request) =>
      inventory.move(request.actor, request.params.id, request.body, key(request.headers)),
    );
    app.post('/samples/:id/state', { schema: { tags: samples, summary: 'Quarantine a sample, clear it, or mark it returned (curator)', params: idParam, headers: idempotencyHeader, body: s.stateInput, response: { 200: s.sample } } }, async (request) =>
      inventory.setState(request.actor, request.params.id, request.body, key(request.headers)),
    );
  };
}
