import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Context } from '../../compose.js';
import { DEMO_DOMAIN } from './lunar.js';
import { demoAccounts, removeDemoAccounts } from './demo.js';

const demoState = z.object({
  accounts: z.int().describe('demo accounts that can still sign in (published password); the web app shows a banner while there are any'),
  domain: z.string(),
});

export function demoRoutes(context: Pick<Context, 'services'>) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['demo'];

    app.get('/demo', {
      schema: { tags, summary: 'Whether demo accounts (with their published password) exist on this instance', response: { 200: demoState } },
      config: { public: true },
    }, async () => ({ accounts: await demoAccounts(context), domain: DEMO_DOMAIN }));

    app.delete('/demo/accounts', {
      schema: {
        tags,
        summary: 'Remove the demo accounts (admin): disabled for good, password removed, sessions and tokens revoked; the demo records stay',
        response: { 200: z.object({ removed: z.array(z.object({ id: z.uuid(), email: z.string() })) }) },
      },
    }, async (request) => {
      const removed = await removeDemoAccounts(context, request.actor);
      return { removed: removed.map((u) => ({ id: u.id, email: u.email })) };
    });
  };
}
