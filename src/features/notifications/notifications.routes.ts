import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idParam } from '../../platform/http/schemas.js';
import type { NotificationsService } from './notifications.service.js';

const notification = z.object({
  id: z.uuid(),
  kind: z.string(),
  title: z.string(),
  body: z.string(),
  entityType: z.string().nullable(),
  entityId: z.string().nullable(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  unread: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});

/** Routes only: the periodic sender and reminders are started by `samplebank serve` (notifications.start()). */
export function notificationsRoutes(notifications: NotificationsService) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['notifications'];

    app.get('/notifications', { schema: { tags, summary: 'Your notifications, newest first', querystring: listQuery, response: { 200: z.object({ items: z.array(notification), nextCursor: z.string().nullable() }) } } }, async (request) =>
      notifications.list(request.actor, request.query),
    );

    app.post('/notifications/:id/read', { schema: { tags, summary: 'Mark a notification read', params: idParam } }, async (request, reply) => {
      await notifications.markRead(request.actor, request.params.id);
      return reply.code(204).send();
    });
  };
}
