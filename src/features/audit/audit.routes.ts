import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { invalid } from '../../core/errors.js';
import * as s from './audit.schemas.js';
import type { AuditService } from './audit.service.js';

export function auditRoutes(audit: AuditService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['audit'];

    app.get('/audit/verify', {
      schema: { tags, summary: 'Seal pending heads and verify the whole audit trail (auditor, admin)', response: { 200: s.verification } },
    }, async (request) => audit.verify(request.actor));

    app.post('/audit/verify', {
      schema: {
        tags,
        summary: 'Verify the whole audit trail against an anchor kept outside the database: it must still hold the anchored seal, unchanged (auditor, admin)',
        body: s.anchorVerifyInput,
        response: { 200: s.verification },
      },
    }, async (request) => audit.verify(request.actor, { anchor: request.body.anchor }));

    app.get('/audit/anchor', {
      schema: { tags, summary: 'The newest seal, signed, with the public key: keep it outside the database to prove later that the trail was not rewritten (auditor, admin)', response: { 200: s.anchor } },
    }, async (request) => audit.anchor(request.actor));

    app.get('/audit/events', {
      schema: { tags, summary: 'Audit events, oldest first, filtered (auditor, admin)', querystring: s.eventQuery, response: { 200: s.eventPage } },
    }, async (request) => {
      const { from, to, ...rest } = request.query;
      const range = { from: from ? new Date(from) : undefined, to: to ? new Date(to) : undefined };
      if (range.from && range.to && range.from >= range.to) throw invalid('to', 'must be after from');
      return audit.listEvents(request.actor, { ...rest, ...range });
    });
  };
}
