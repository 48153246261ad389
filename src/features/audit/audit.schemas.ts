import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1).max(max);
const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-11-23T08:00:00Z' });

export const eventQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
  stream: text(200).optional(),
  entityType: text(100).optional(),
  entityId: text(200).optional(),
  actorId: z.uuid('must be a UUID').optional(),
  action: text(100).optional(),
  from: instant.optional(),
  to: instant.optional(),
});

export const event = z.object({
  id: z.uuid(),
  stream: z.string(),
  seq: z.number().int(),
  occurredAt: z.date(),
  actorId: z.uuid().nullable(),
  action: z.string(),
  entityType: z.string(),
  entityId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  requestId: z.string().nullable(),
  prevHash: z.string(),
  hash: z.string(),
});

export const eventPage = z.object({ items: z.array(event), nextCursor: z.string().nullable() });

export const verification = z.object({
  ok: z.boolean(),
  events: z.number().int(),
  head: z.string().describe('hash of the latest seal; keep it elsewhere to pin the history'),
  seals: z.number().int(),
  firstBad: z
    .object({
      eventId: z.uuid().nullable().describe('null when the event is missing'),
      stream: z.string().describe('"#seals" when the seal chain itself is broken'),
      seq: z.number().int(),
      reason: z.string(),
    })
    .optional(),
});
