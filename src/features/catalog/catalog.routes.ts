import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CatalogService } from './catalog.service.js';

const kindFigures = z.object({ samples: z.int(), quantity: z.string() });

export const catalog = z.object({
  collections: z.array(
    z.object({
      id: z.uuid(),
      code: z.string(),
      name: z.string(),
      description: z.string().nullable(),
      unit: z.string(),
      scale: z.int(),
      humanConsent: z.boolean(),
      biosafetyLevel: z.int().nullable(),
      samples: z.int(),
      quantity: z.string().describe('exact decimal in the unit'),
      byKind: z.record(z.string(), kindFigures),
    }),
  ),
  calls: z.array(
    z.object({
      id: z.uuid(),
      collectionId: z.uuid(),
      title: z.string(),
      description: z.string().nullable(),
      state: z.string(),
      opensAt: z.string(),
      closesAt: z.string(),
      blind: z.boolean(),
      researchDirections: z.array(z.string()),
      unit: z.string(),
      offer: z.array(z.object({ kind: z.string(), releasable: z.string().describe('offered after the permanent reserve, exact decimal') })),
    }),
  ),
});

export function catalogRoutes(service: CatalogService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/catalog',
      { schema: { tags: ['catalog'], summary: 'The public catalog: collections held, by kind, and what each call past draft offers (no sign-in)', response: { 200: catalog } }, config: { public: true } },
      async () => service.catalog(),
    );
  };
}
