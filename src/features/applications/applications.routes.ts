import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../../core/errors.js';
import { decisionOutcomes } from '../../core/workflow.js';
import { idParam } from '../../platform/http/schemas.js';
import * as s from './applications.schemas.js';
import { MAX_ATTACHMENT_BYTES, type ApplicationsService } from './applications.service.js';

const decisionInput = z.strictObject({
  outcome: z.enum(decisionOutcomes),
  rationale: z.string().trim().min(1).max(10_000),
  letter: z.string().trim().min(1).max(20_000).optional(),
  approvedItems: z.array(z.strictObject({ kind: z.string().min(1).max(64), quantity: z.string().max(40) })).max(50).optional(),
});

export function applicationsRoutes(applications: ApplicationsService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['applications'];

    // Attachments arrive as the raw PDF body; the service checks the magic bytes.
    root.addContentTypeParser('application/pdf', { parseAs: 'buffer', bodyLimit: MAX_ATTACHMENT_BYTES }, (_request, body, done) => done(null, body));

    app.get('/applications', { schema: { tags, summary: 'Applications you may see', querystring: s.applicationListQuery, response: { 200: z.object({ items: z.array(s.application), nextCursor: z.string().nullable() }) } } }, async (request) =>
      applications.list(request.actor, request.query),
    );

    app.post('/applications', { schema: { tags, summary: 'Start a draft application (applicant)', body: s.applicationInput, response: { 201: s.application } } }, async (request, reply) =>
      reply.code(201).send(await applications.create(request.actor, request.body)),
    );

    app.get('/applications/:id', { schema: { tags, summary: 'An application (404 to anyone who may not see it)', params: idParam, response: { 200: s.application } } }, async (request) =>
      applications.get(request.actor, request.params.id),
    );

    app.patch('/applications/:id', { schema: { tags, summary: 'Edit your draft', params: idParam, body: s.applicationPatch, response: { 200: s.application } } }, async (request) =>
      applications.update(request.actor, request.params.id, request.body),
    );

    app.post('/applications/:id/submit', { schema: { tags, summary: 'Submit your draft before the call closes', params: idParam, response: { 200: s.application } } }, async (request) =>
      applications.submit(request.actor, request.params.id),
    );

    app.post('/applications/:id/withdraw', { schema: { tags, summary: 'Withdraw your application (any time before allocation)', params: idParam, body: s.withdrawInput.nullish(), response: { 200: s.application } } }, async (request) =>
      applications.withdraw(request.actor, request.params.id, request.body?.reason),
    );

    app.post('/applications/:id/decision', { schema: { tags, summary: 'Decide an application in review (chair)', params: idParam, body: decisionInput, response: { 200: s.application } } }, async (request) =>
      applications.decide(request.actor, request.params.id, request.body),
    );

    app.post('/applications/:id/attachments', {
      bodyLimit: MAX_ATTACHMENT_BYTES,
      schema: { tags, summary: 'Attach a PDF (send it as the application/pdf body; ?name= gives its display name)', params: idParam, querystring: s.attachmentQuery, response: { 201: s.attachment } },
    }, async (request, reply) => {
      const body = request.body;
      if (!Buffer.isBuffer(body)) throw new DomainError('unsupported-media-type', 'Send the file as an application/pdf body', { errors: [{ field: 'Content-Type', message: 'must be application/pdf' }] });
      return reply.code(201).send(await applications.addAttachment(request.actor, request.params.id, request.query.name, body));
    });

    app.get('/applications/:id/attachments/:attachmentId', { schema: { tags, summary: 'Download an attachment', params: s.attachmentParams } }, async (request, reply) => {
      const file = await applications.attachment(request.actor, request.params.id, request.params.attachmentId);
      const ascii = file.fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.fileName)}`)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(file.content);
    });

    app.delete('/applications/:id/attachments/:attachmentId', { schema: { tags, summary: 'Remove an attachment from your draft', params: s.attachmentParams } }, async (request, reply) => {
      await applications.deleteAttachment(request.actor, request.params.id, request.params.attachmentId);
      return reply.code(204).send();
    });

    // Public: the statistics of a call that is not a draft are published figures, readable signed out.
    app.get('/calls/:id/statistics', { schema: { tags: ['calls'], summary: 'Applications, institutions, approvals and distributed material of a call (public once the call is open; never a draft)', params: idParam, response: { 200: s.statistics } }, config: { public: true } }, async (request) =>
      applications.statistics(request.actor, request.params.id),
    );

    app.get('/calls/:id/statistics.csv', { schema: { tags: ['calls'], summary: 'The statistics as CSV (committee, curators, auditors)', params: idParam } }, async (request, reply) => {
      const csv = await applications.statisticsCsv(request.actor, request.params.id);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="call-${request.params.id}-statistics.csv"`).send(csv);
    });
  };
}
