import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idParam } from '../../platform/http/schemas.js';
import * as s from './calls.schemas.js';
import type { CallsService } from './calls.service.js';

export function callsRoutes(calls: CallsService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['calls'];

    app.get('/calls', { schema: { tags, summary: 'Calls (release batches) you may see', querystring: s.callListQuery, response: { 200: z.object({ items: z.array(s.call), nextCursor: z.string().nullable() }) } } }, async (request) =>
      calls.list(request.actor, request.query),
    );

    app.post('/calls', { schema: { tags, summary: 'Open a draft call on a collection (chair)', body: s.callInput, response: { 201: s.call } } }, async (request, reply) =>
      reply.code(201).send(await calls.create(request.actor, request.body)),
    );

    app.get('/calls/:id', { schema: { tags, summary: 'A call', params: idParam, response: { 200: s.call } } }, async (request) => calls.get(request.actor, request.params.id));

    app.patch('/calls/:id', { schema: { tags, summary: 'Edit a draft call (while open: only closesAt and reviewDeadline)', params: idParam, body: s.callPatch, response: { 200: s.call } } }, async (request) =>
      calls.update(request.actor, request.params.id, request.body),
    );

    app.put('/calls/:id/panel', { schema: { tags, summary: "Set the call's review panel (chair)", params: idParam, body: s.panelInput, response: { 200: s.call } } }, async (request) =>
      calls.setPanel(request.actor, request.params.id, request.body.reviewerIds),
    );

    app.get('/calls/:id/pool', { schema: { tags, summary: 'Material offered per kind, after the permanent reserve', params: idParam, response: { 200: s.pool } } }, async (request) =>
      calls.getPool(request.actor, request.params.id),
    );

    app.put('/calls/:id/pool', { schema: { tags, summary: 'Set the samples offered (chair or curator; draft or open call)', params: idParam, body: s.poolInput, response: { 200: s.pool } } }, async (request) =>
      calls.setPool(request.actor, request.params.id, request.body.sampleIds),
    );

    app.post('/calls/:id/transitions', { schema: { tags, summary: 'Move the call to its next state (chair)', params: idParam, body: s.transitionInput, response: { 200: s.call } } }, async (request) =>
      calls.transition(request.actor, request.params.id, request.body.to, request.body.reason),
    );
  };
}
