import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idempotencyHeader, idParam } from '../../platform/http/schemas.js';
import * as s from './allocation.schemas.js';
import type { AllocationService } from './allocation.service.js';

export function allocationRoutes(allocation: AllocationService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['allocation'];

    app.post(
      '/calls/:id/allocations',
      {
        schema: {
          tags,
          summary: "Propose an allocation of the call's material to its approved applications (chair); with `Prefer: respond-async`, answers 202 with a job to follow at /jobs/{id}",
          params: idParam,
          headers: s.proposeHeaders,
          body: s.proposeInput,
          response: { 201: s.allocation, 202: z.object({ jobId: z.uuid() }) },
        },
      },
      async (request, reply) => {
        if (/\brespond-async\b/i.test(request.headers.prefer ?? '')) {
          const { jobId } = await allocation.proposeInBackground(request.actor, request.params.id, request.body);
          return reply.code(202).header('location', `/api/v1/jobs/${jobId}`).send({ jobId });
        }
        return reply.code(201).send(await allocation.propose(request.actor, request.params.id, request.body));
      },
    );

    app.get('/calls/:id/allocations', { schema: { tags, summary: "The call's allocations, newest first (committee, curators, auditors)", params: idParam, response: { 200: z.object({ items: z.array(s.allocationSummary), nextCursor: z.string().nullable() }) } } }, async (request) =>
      allocation.list(request.actor, request.params.id),
    );

    app.get('/calls/:id/distribution', { schema: { tags, summary: "What the call's executed allocations gave: in total, by kind, by institution and by research direction (committee, curators, auditors)", params: idParam, response: { 200: s.distribution } } }, async (request) =>
      allocation.distribution(request.actor, request.params.id),
    );

    app.get('/allocations/:id', { schema: { tags, summary: 'An allocation with its pieces, explanations and a check against the inventory now', params: idParam, response: { 200: s.allocation } } }, async (request) =>
      allocation.get(request.actor, request.params.id),
    );

    app.patch('/allocations/:id', { schema: { tags, summary: 'Change quantities and source samples of some items; an approved allocation returns to draft (chair)', params: idParam, body: s.allocationEdit, response: { 200: s.allocation } } }, async (request) =>
      allocation.update(request.actor, request.params.id, request.body),
    );

    app.post('/allocations/:id/check', { schema: { tags, summary: 'What an edit would give and which rules it breaks, without saving (chair)', params: idParam, body: s.allocationEdit, response: { 200: s.checkOutput } } }, async (request) =>
      allocation.check(request.actor, request.params.id, request.body),
    );

    app.post('/allocations/:id/approve', { schema: { tags, summary: 'Approve a draft allocation after checking it against the inventory (chair)', params: idParam, response: { 200: s.allocation } } }, async (request) =>
      allocation.approve(request.actor, request.params.id),
    );

    app.post('/allocations/:id/execute', { schema: { tags, summary: 'Split the parent samples and reserve each subsample to its application, in one transaction; a second call changes nothing (chair or curator)', params: idParam, headers: idempotencyHeader, response: { 200: s.allocation } } }, async (request) =>
      allocation.execute(request.actor, request.params.id, request.headers['idempotency-key'], request.id),
    );
  };
}
