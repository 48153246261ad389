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
  signatures: z
    .object({
      signed: z.number().int().describe('seals signed by a key this server trusts'),
      unsigned: z.number().int().describe('seals from before seals were signed (only ever before the first signed one)'),
      keys: z.array(z.string()).describe('ids of the keys that signed them'),
    })
    .optional(),
  anchor: z.object({ seq: z.number().int(), ok: z.boolean().describe('the trail still holds exactly the seal the anchor names') }).optional(),
  firstBad: z
    .object({
      eventId: z.uuid().nullable().describe('null when the event is missing'),
      stream: z.string().describe('"#seals" when the seal chain itself is broken'),
      seq: z.number().int(),
      reason: z.string(),
    })
    .optional(),
});

const hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`), `must be ${length} hexadecimal digits`);

/** A signed seal to keep outside the database: in a ticket, an e-mail, a notary's file. */
export const anchor = z.object({
  format: z.literal('samplebank-audit-anchor/1'),
  seal: z.object({ seq: z.string().regex(/^[1-9]\d{0,18}$/, 'must be a seal number'), hash: hex(64), sealedAt: z.string().max(40) }),
  keyId: hex(16),
  signature: z.string().min(80).max(100).describe('Ed25519 signature of the seal hash, base64'),
  publicKey: z.string().min(40).max(400).describe('the signing key, PEM (SPKI)'),
  events: z.number().int().min(0).describe('events in the trail when the anchor was taken'),
  createdAt: z.string().max(40),
});

export const anchorVerifyInput = z.strictObject({ anchor });
