import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { writeTable, type ExportService } from './export.service.js';

const exportQuery = z.strictObject({
  collectionId: z.uuid('must be a UUID'),
  format: z.enum(['csv', 'xlsx']).default('csv'),
});

const contentTypes = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

export function exportRoutes(exports: ExportService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.get('/samples/export', {
      schema: {
        tags: ['inventory'],
        summary: "All of a collection's samples as CSV or XLSX (streamed; quantities as exact decimal text)",
        querystring: exportQuery,
        produces: [contentTypes.csv, contentTypes.xlsx],
      },
    }, async (request, reply) => {
      const { collectionId, format } = request.query;
      // Access and the collection are checked before the first byte, so a refusal is still a problem document.
      const table = await exports.table(request.actor, { id: collectionId });
      const body = new PassThrough();
      writeTable(table, format, body).then(
        () => {
          if (format === 'csv') body.end();
        },
        (error: unknown) => {
          request.log.error({ err: error }, 'export failed while streaming');
          body.destroy(error instanceof Error ? error : new Error(String(error)));
        },
      );
      return reply
        .type(contentTypes[format])
        .header('content-disposition', `attachment; filename="${table.collection.code}-samples.${format}"`)
        .send(body);
    });
  };
}
