import { z } from 'zod';

export const job = z.object({
  id: z.uuid(),
  kind: z.string(),
  state: z.enum(['queued', 'running', 'succeeded', 'failed']),
  done: z.number().int(),
  total: z.number().int().nullable(),
  message: z.string().nullable(),
  result: z.unknown(),
  error: z.unknown(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
