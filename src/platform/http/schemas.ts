import { z } from 'zod';

export const idParam = z.strictObject({ id: z.uuid('must be a UUID') });
export const idempotencyHeader = z.object({ 'idempotency-key': z.string().min(1).max(200).optional() });
