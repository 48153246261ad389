import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { idParam } from '../../platform/http/schemas.js';
import * as s from './jobs.schemas.js';
import type { JobsService } from './jobs.service.js';

export function jobsRoutes(jobs: JobsService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.get('/jobs/:id', {
      schema: { tags: ['jobs'], summary: 'A long-running job: progress, then its result or error', params: idParam, response: { 200: s.job } },
    }, async (request) => {
      const { createdBy: _createdBy, ...job } = await jobs.get(request.actor, request.params.id);
      return job;
    });
  };
}
