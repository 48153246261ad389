import { z } from 'zod';
import { callStates } from '../../core/workflow.js';

export const limits = { title: 200, description: 10_000, directions: 50, direction: 200, criteria: 20, panel: 200, pool: 5000 } as const;

const uuid = z.uuid();
const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2026-12-01T00:00:00Z' });
const fraction = z.string().regex(/^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$/, 'must be a decimal between 0 and 1 with at most 4 decimals, such as "0.75"');

export const criterionInput = z.strictObject({
  key: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'lower-case letters, digits and underscores'),
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  weight: z.int().min(1).max(1000),
});

export const rubricInput = z.strictObject({
  scaleMin: z.int().min(0).max(99).default(1),
  scaleMax: z.int().min(1).max(100).default(5),
  criteria: z.array(criterionInput).min(1).max(limits.criteria),
});

export const callInput = z.strictObject({
  collectionId: uuid,
  title: z.string().trim().min(1).max(limits.title),
  description: z.string().max(limits.description).optional(),
  opensAt: instant,
  closesAt: instant,
  reviewDeadline: instant.optional(),
  reserveFraction: fraction.optional(),
  blind: z.boolean().optional(),
  reviewersPerApplication: z.int().min(1).max(20).optional(),
  researchDirections: z.array(z.string().trim().min(1).max(limits.direction)).max(limits.directions).optional(),
  eligibleInstitutionIds: z.array(uuid).max(1000).optional(),
  rubric: rubricInput,
  panel: z.array(uuid).max(limits.panel).optional(),
});
export type CallInput = z.infer<typeof callInput>;

export const callPatch = z.strictObject({
  title: z.string().trim().min(1).max(limits.title).optional(),
  description: z.string().max(limits.description).nullable().optional(),
  opensAt: instant.optional(),
  closesAt: instant.optional(),
  reviewDeadline: instant.nullable().optional(),
  reserveFraction: fraction.optional(),
  blind: z.boolean().optional(),
  reviewersPerApplication: z.int().min(1).max(20).optional(),
  researchDirections: z.array(z.string().trim().min(1).max(limits.direction)).max(limits.directions).optional(),
  eligibleInstitutionIds: z.array(uuid).max(1000).optional(),
  rubric: rubricInput.optional(),
  panel: z.array(uuid).max(limits.panel).optional(),
});
export type CallPatch = z.infer<typeof callPatch>;

export const call = z.object({
  id: uuid,
  collectionId: uuid,
  title: z.string(),
  description: z.string().nullable(),
  state: z.enum(callStates),
  opensAt: z.string(),
  closesAt: z.string(),
  reviewDeadline: z.string().nullable(),
  reserveFraction: z.string(),
  blind: z.boolean(),
  reviewersPerApplication: z.number(),
  researchDirections: z.array(z.string()),
  rubric: z.object({ scaleMin: z.number(), scaleMax: z.number(), criteria: z.array(z.object({ key: z.string(), name: z.string(), description: z.string().nullable(), weight: z.number() })) }),
  eligibleInstitutionIds: z.array(uuid),
  panel: z.array(uuid).optional(),
  unit: z.string(),
  scale: z.number(),
  humanConsent: z.boolean(),
  chairId: uuid.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const pool = z.object({
  callId: uuid,
  unit: z.string(),
  reserveFraction: z.string(),
  kinds: z.array(z.object({ kind: z.string(), total: z.string(), releasable: z.string(), reserve: z.string(), samples: z.array(z.object({ id: uuid, identifier: z.string(), quantity: z.string() })).optional() })),
});

export const poolInput = z.strictObject({ sampleIds: z.array(uuid).max(limits.pool) });
export const panelInput = z.strictObject({ reviewerIds: z.array(uuid).max(limits.panel) });
export const transitionInput = z.strictObject({ to: z.enum(callStates), reason: z.string().max(2000).optional() });

export const callListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.uuid().optional(),
  collectionId: z.uuid().optional(),
  state: z.enum(callStates).optional(),
});
