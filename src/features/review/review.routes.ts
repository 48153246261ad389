import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idParam } from '../../platform/http/schemas.js';
import * as s from './review.schemas.js';
import type { ReviewService } from './review.service.js';

export function reviewRoutes(review: ReviewService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['review'];

    app.post('/applications/:id/reviews', { schema: { tags, summary: 'Assign a panel reviewer to an application (chair)', params: idParam, body: s.assignInput, response: { 201: s.review } } }, async (request, reply) =>
      reply.code(201).send(await review.assign(request.actor, request.params.id, request.body.reviewerId)),
    );

    app.get('/applications/:id/reviews', { schema: { tags, summary: "An application's reviews with reviewers and confidential notes (committee, auditor)", params: idParam, response: { 200: z.object({ items: z.array(s.review) }) } } }, async (request) =>
      review.forApplication(request.actor, request.params.id),
    );

    app.post('/applications/:id/conflicts', { schema: { tags, summary: 'Declare a conflict of interest with an application assigned to you (reviewer)', params: idParam, body: s.conflictInput } }, async (request, reply) => {
      await review.declareConflict(request.actor, request.params.id, request.body.reason);
      return reply.code(204).send();
    });

    app.post('/calls/:id/assignments/auto', { schema: { tags, summary: 'Assign reviewers automatically: N per application, balanced, never conflicted (chair)', params: idParam, body: s.autoAssignInput, response: { 200: s.autoAssignOutput } } }, async (request) =>
      review.autoAssign(request.actor, request.params.id, request.body.perApplication),
    );

    app.get('/calls/:id/conflicts', { schema: { tags, summary: 'Declared conflicts of interest in a call (committee, auditor)', params: idParam, response: { 200: z.object({ items: z.array(z.object({ id: z.uuid(), reviewerId: z.uuid(), applicationId: z.uuid().nullable(), institutionId: z.uuid().nullable(), reason: z.string(), createdAt: z.string() })) }) } } }, async (request) =>
      review.conflicts(request.actor, request.params.id),
    );

    app.post('/calls/:id/conflicts', { schema: { tags, summary: 'Declare a conflict with a whole institution in this call (panel reviewer)', params: idParam, body: s.institutionConflictInput, response: { 200: z.object({ recused: z.number() }) } } }, async (request) =>
      review.declareInstitutionConflict(request.actor, request.params.id, request.body.institutionId, request.body.reason),
    );

    app.get('/calls/:id/ranking', { schema: { tags, summary: 'Applications ranked by weighted scores normalised per reviewer, with the spread (committee, auditor)', params: idParam, response: { 200: s.ranking } } }, async (request) =>
      review.rankingReport(request.actor, request.params.id),
    );

    app.get('/reviews', { schema: { tags, summary: 'Your review assignments (reviewer)', querystring: s.myReviewsQuery, response: { 200: z.object({ items: z.array(s.myReview), nextCursor: z.string().nullable() }) } } }, async (request) =>
      review.mine(request.actor, request.query),
    );

    app.get('/reviews/:id', { schema: { tags, summary: 'A review (its reviewer or the committee)', params: idParam, response: { 200: s.review } } }, async (request) => review.get(request.actor, request.params.id));

    app.put('/reviews/:id', { schema: { tags, summary: 'Score every criterion and submit; may be revised until the call is decided (reviewer)', params: idParam, body: s.scoreInput, response: { 200: s.review.extend({ allReviewsIn: z.boolean() }) } } }, async (request) =>
      review.score(request.actor, request.params.id, request.body),
    );

    app.delete('/reviews/:id', { schema: { tags, summary: 'Unassign a review not yet submitted (chair)', params: idParam } }, async (request, reply) => {
      await review.unassign(request.actor, request.params.id);
      return reply.code(204).send();
    });
  };
}
