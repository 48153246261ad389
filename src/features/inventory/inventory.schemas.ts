/** The inventory's shapes at the HTTP edge (see /tmp/api-shapes agreed with the web and import features). */
import { z } from 'zod';
import { sampleStates } from '../../core/ledger.js';

export const uuid = z.uuid('must be a UUID');
export const code = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, 'letters, digits, dot, dash or underscore; at most 32');
const name = z.string().trim().min(1).max(200);
/** A decimal string; its scale is checked against the collection by the service (never rounded). */
const quantityText = z.string().min(1, 'must not be empty').max(40, 'is too long');
const reason = z.string().trim().min(1, 'must not be empty').max(2000);
export const identifier = z.string().min(1).max(64).regex(/^\S+$/, 'must not contain spaces');
export const position = z.string().regex(/^[A-Z]{1,2}[0-9]{1,3}$/, 'a box position such as "A1"');
const kind = z.string().trim().min(1).max(64);
const units = ['g', 'mg', 'mL', 'count'] as const;
const locationKinds = ['site', 'room', 'freezer', 'cabinet', 'rack', 'shelf', 'box'] as const;

export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

export const collectionInput = z.strictObject({
  code,
  name,
  unit: z.enum(units),
  scale: z.int().min(0).max(6),
  humanConsent: z.boolean(),
  kinds: z.array(kind).max(50).optional(),
  description: z.string().max(5000).nullable().optional(),
  biosafetyLevel: z.int().min(1).max(4).nullable().optional(),
  institutionId: uuid.nullable().optional(),
});
export const collection = z.object({
  id: uuid,
  code: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  unit: z.enum(units),
  scale: z.int(),
  humanConsent: z.boolean(),
  kinds: z.array(z.string()),
  biosafetyLevel: z.int().nullable(),
  institutionId: uuid.nullable(),
  createdAt: z.string(),
});
export const collectionSummary = z.object({
  samples: z.int(),
  quantity: z.string(),
  unit: z.enum(units),
  byKind: z.record(z.string(), z.object({ samples: z.int(), quantity: z.string() })),
});

export const locationInput = z.strictObject({
  parentId: uuid.nullable().optional(),
  kind: z.enum(locationKinds),
  code,
  name,
  rows: z.int().min(1).max(26).optional(),
  cols: z.int().min(1).max(100).optional(),
});
export const location = z.object({
  id: uuid,
  parentId: uuid.nullable(),
  kind: z.enum(locationKinds),
  code: z.string(),
  name: z.string(),
  rows: z.int().nullable(),
  cols: z.int().nullable(),
  path: z.string(),
});
export const locationDetail = location.extend({
  children: z.array(location),
  occupancy: z.array(z.object({ position: z.string(), sampleId: uuid, identifier: z.string() })),
});
export const locationQuery = pageQuery.extend({ parentId: uuid.optional() });

export const sample = z.object({
  id: uuid,
  identifier: z.string(),
  collectionId: uuid,
  kind: z.string(),
  quantity: z.string(),
  reserved: z.string(),
  available: z.string(),
  unit: z.enum(units),
  state: z.enum(sampleStates),
  parentId: uuid.nullable(),
  rootId: uuid,
  locationId: uuid.nullable(),
  position: z.string().nullable(),
  attributes: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const sampleInput = z.strictObject({
  collectionId: uuid,
  kind,
  quantity: quantityText,
  identifier: identifier.optional(),
  locationId: uuid.nullable().optional(),
  position: position.nullable().optional(),
  attributes: z.record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()])).optional(),
});
export const sampleQuery = pageQuery.extend({
  collectionId: uuid.optional(),
  kind: kind.optional(),
  state: z.enum(sampleStates).optional(),
  locationId: uuid.optional(),
  q: z.string().min(1).max(64).optional(),
});
export const identifierParam = z.strictObject({ identifier });

export const splitPart = z.strictObject({
  quantity: quantityText,
  kind: kind.optional(),
  identifier: identifier.optional(),
  locationId: uuid.nullable().optional(),
  position: position.nullable().optional(),
});
export const splitInput = z.strictObject({
  parts: z.array(splitPart).min(1, 'at least one part').max(200),
  loss: quantityText.optional(),
  reason,
});
export const splitOutput = z.object({ parent: sample, children: z.array(sample) });

export const reservationInput = z.strictObject({
  quantity: quantityText,
  applicationId: uuid.nullable().optional(),
  note: z.string().max(1000).nullable().optional(),
});
export const reservation = z.object({
  id: uuid,
  sampleId: uuid,
  quantity: z.string(),
  applicationId: uuid.nullable(),
  note: z.string().nullable(),
  state: z.enum(['active', 'released', 'fulfilled']),
  createdAt: z.string(),
});

export const consumeInput = z.strictObject({ quantity: quantityText, reason });
export const adjustInput = z.strictObject({ delta: quantityText, reason });
export const destroyInput = z.strictObject({ reason });
export const moveInput = z.strictObject({ locationId: uuid.nullable(), position: position.nullable().optional(), reason: reason.optional() });
export const stateInput = z.strictObject({ state: z.enum(['available', 'quarantined', 'returned']), reason });

export const movement = z.object({
  id: uuid,
  sampleId: uuid,
  kind: z.string(),
  delta: z.string(),
  reservedDelta: z.string(),
  quantityAfter: z.string(),
  reservedAfter: z.string(),
  counterpartId: uuid.nullable(),
  reservationId: uuid.nullable(),
  stateAfter: z.string(),
  reason: z.string().nullable(),
  actorId: uuid.nullable(),
  occurredAt: z.string(),
});
export const lineage = z.object({ ancestors: z.array(sample), descendants: z.array(sample.extend({ depth: z.int() })) });

export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
