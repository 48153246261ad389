import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idempotencyHeader, idParam } from '../../platform/http/schemas.js';
import * as s from './distribution.schemas.js';
import type { DistributionService } from './distribution.service.js';

export function distributionRoutes(distribution: DistributionService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['distribution'];

    app.post('/shipments', { schema: { tags, summary: "Prepare a shipment of an application's reserved samples (curator)", headers: idempotencyHeader, body: s.shipmentInput, response: { 201: s.shipment } } }, async (request, reply) =>
      reply.code(201).send(await distribution.create(request.actor, request.body, request.headers['idempotency-key'])),
    );

    app.get('/shipments', { schema: { tags, summary: 'Shipments you may see, newest first', querystring: s.shipmentListQuery, response: { 200: z.object({ items: z.array(s.shipment), nextCursor: z.string().nullable() }) } } }, async (request) =>
      distribution.list(request.actor, request.query),
    );

    app.get('/shipments/:id', { schema: { tags, summary: 'A shipment with its items, custody events and incidents', params: idParam, response: { 200: s.shipment } } }, async (request) =>
      distribution.get(request.actor, request.params.id),
    );

    app.post('/shipments/:id/pack', { schema: { tags, summary: 'Record that the shipment is packed (curator)', params: idParam, response: { 200: s.shipment } } }, async (request) =>
      distribution.pack(request.actor, request.params.id),
    );

    app.post('/shipments/:id/dispatch', { schema: { tags, summary: 'Hand the package to a courier: reservations fulfilled, samples in transit (curator)', params: idParam, headers: idempotencyHeader, body: s.dispatchInput, response: { 200: s.shipment } } }, async (request) =>
      distribution.dispatch(request.actor, request.params.id, request.body, request.headers['idempotency-key']),
    );

    app.post('/shipments/:id/cancel', { schema: { tags, summary: 'Cancel a shipment not yet dispatched; its reservations stay (curator)', params: idParam, body: s.cancelInput, response: { 200: s.shipment } } }, async (request) =>
      distribution.cancel(request.actor, request.params.id, request.body.reason),
    );

    app.post('/shipments/:id/receipt', { schema: { tags, summary: 'Confirm receipt with the quantity and condition found per sample (the recipient)', params: idParam, headers: idempotencyHeader, body: s.receiptInput, response: { 200: s.shipment } } }, async (request) =>
      distribution.receive(request.actor, request.params.id, request.body, request.headers['idempotency-key']),
    );

    for (const which of ['packing-list', 'labels'] as const) {
      app.get(`/shipments/:id/${which}.pdf`, { schema: { tags, summary: which === 'labels' ? 'Label sheet (PDF): a DataMatrix per sample with its identifier' : 'Packing list (PDF)', params: idParam } }, async (request, reply) => {
        const file = await distribution.document(request.actor, request.params.id, which);
        return reply.type('application/pdf').header('content-disposition', `inline; filename="${file.fileName}"`).send(Buffer.from(file.content));
      });
    }

    app.get('/incidents', { schema: { tags, summary: 'Discrepancies found on receipt (curators see all; a recipient their own)', querystring: s.incidentListQuery, response: { 200: z.object({ items: z.array(s.incident), nextCursor: z.string().nullable() }) } } }, async (request) =>
      distribution.incidents(request.actor, request.query),
    );

    app.post('/incidents/:id/resolve', { schema: { tags, summary: 'Resolve an incident: accept the ledger as shipped, or adjust the sample to what was found (curator)', params: idParam, headers: idempotencyHeader, body: s.resolveInput, response: { 200: s.incident } } }, async (request) =>
      distribution.resolveIncident(request.actor, request.params.id, request.body, request.headers['idempotency-key']),
    );
  };
}
