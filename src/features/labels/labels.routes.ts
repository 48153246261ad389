import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid } from '../../core/errors.js';
import type { LabelsService } from './labels.service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const labelsQuery = z.strictObject({
  ids: z.string().min(1).max(40_000).describe('sample ids, comma-separated (at most 240)'),
});

export function labelsRoutes(labels: LabelsService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/samples/labels.pdf',
      { schema: { tags: ['samples'], summary: 'Label sheet (PDF, A4): a DataMatrix label per sample named in ids, with identifier, kind and quantity', querystring: labelsQuery } },
      async (request, reply) => {
        const ids = request.query.ids.split(',').map((id) => id.trim()).filter((id) => id.length > 0);
        const bad = ids.findIndex((id) => !UUID.test(id));
        if (bad >= 0) throw invalid('ids', `item ${bad + 1} is not a UUID`);
        const file = await labels.sheet(request.actor, ids);
        return reply.type('application/pdf').header('content-disposition', `inline; filename="${file.fileName}"`).send(Buffer.from(file.content));
      },
    );
  };
}
