import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idempotencyHeader, idParam } from '../../platform/http/schemas.js';
import * as s from './loans.schemas.js';
import type { LoansService } from './loans.service.js';

export function loansRoutes(loans: LoansService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['loans'];

    app.get('/loans', { schema: { tags, summary: 'Loans you may see, by due date; ?overdue=true lists those with an overdue obligation', querystring: s.loanListQuery, response: { 200: z.object({ items: z.array(s.loan), nextCursor: z.string().nullable() }) } } }, async (request) =>
      loans.list(request.actor, request.query),
    );

    app.post('/loans/reminders', { schema: { tags, summary: 'Send due-date reminders and overdue notices now (curator; the server also does this every minute)', response: { 200: z.object({ reminders: z.number().int(), overdue: z.number().int() }) } } }, async (request) =>
      loans.remindNow(request.actor),
    );

    app.get('/loans/returns', { schema: { tags, summary: 'Returned material across loans, oldest first: in transit back, or received (curators, chairs, auditors)', querystring: s.returnListQuery, response: { 200: z.object({ items: z.array(s.returnEntry), nextCursor: z.string().nullable() }) } } }, async (request) =>
      loans.returns(request.actor, request.query),
    );

    app.post('/loans/returns/:id/receipt', { schema: { tags, summary: 'Record that returned material arrived back: quantity found, condition, storage place (curator)', params: idParam, headers: idempotencyHeader, body: s.returnReceiptInput, response: { 200: s.returnEntry } } }, async (request) =>
      loans.receiveReturn(request.actor, request.params.id, request.body, request.headers['idempotency-key']),
    );

    app.get('/loans/:id', { schema: { tags, summary: 'A loan: material held, returned and consumed, obligations, and what blocks its closing', params: idParam, response: { 200: s.loan } } }, async (request) =>
      loans.get(request.actor, request.params.id),
    );

    app.patch('/loans/:id', { schema: { tags, summary: 'Set the due dates (curator)', params: idParam, body: s.loanDatesInput, response: { 200: s.loan } } }, async (request) =>
      loans.update(request.actor, request.params.id, request.body),
    );

    app.post('/loans/:id/reports', { schema: { tags, summary: 'File a result report (the recipient)', params: idParam, body: s.reportInput, response: { 201: s.loan } } }, async (request, reply) =>
      reply.code(201).send(await loans.fileReport(request.actor, request.params.id, request.body)),
    );

    app.post('/loans/:id/publications', { schema: { tags, summary: 'Register a publication with its DOI and acknowledgement (the recipient)', params: idParam, body: s.publicationInput, response: { 201: s.loan } } }, async (request, reply) =>
      reply.code(201).send(await loans.addPublication(request.actor, request.params.id, request.body)),
    );

    app.post('/loans/:id/returns', { schema: { tags, summary: 'Return material, whole or partial: each return becomes a new sample marked returned (the recipient)', params: idParam, headers: idempotencyHeader, body: s.returnInput, response: { 201: s.loan } } }, async (request, reply) =>
      reply.code(201).send(await loans.returnMaterial(request.actor, request.params.id, request.body, request.headers['idempotency-key'])),
    );

    app.post('/loans/:id/consumptions', { schema: { tags, summary: 'Report material used up by the analyses (the recipient)', params: idParam, headers: idempotencyHeader, body: s.consumptionInput, response: { 201: s.loan } } }, async (request, reply) =>
      reply.code(201).send(await loans.reportConsumption(request.actor, request.params.id, request.body, request.headers['idempotency-key'])),
    );

    app.post('/loans/:id/close', { schema: { tags, summary: 'Close the loan once every unit is accounted for and the obligations are met (curator)', params: idParam, body: s.closeInput, response: { 200: s.loan } } }, async (request) =>
      loans.close(request.actor, request.params.id, request.body),
    );
  };
}
