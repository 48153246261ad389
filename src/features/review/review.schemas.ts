import { z } from 'zod';

const uuid = z.uuid();

export const assignInput = z.strictObject({ reviewerId: uuid });
export const autoAssignInput = z.strictObject({ perApplication: z.int().min(1).max(20).optional() });
export const conflictInput = z.strictObject({ reason: z.string().trim().min(1).max(2000) });
export const institutionConflictInput = z.strictObject({ institutionId: uuid, reason: z.string().trim().min(1).max(2000) });

export const scoreInput = z.strictObject({
  scores: z.array(z.strictObject({ criterion: z.string().min(1).max(40), score: z.int().min(0).max(100), comment: z.string().max(5000).optional() })).min(1).max(20),
  commentsForApplicant: z.string().max(20_000).optional(),
  confidentialNotes: z.string().max(20_000).optional(),
});

const score = z.object({ criterion: z.string(), score: z.number(), comment: z.string().nullable() });

export const review = z.object({
  id: uuid,
  callId: uuid,
  applicationId: uuid,
  reviewerId: uuid.optional(),
  assignedHow: z.enum(['manual', 'auto']).optional(),
  state: z.enum(['assigned', 'submitted', 'recused']),
  scores: z.array(score),
  commentsForApplicant: z.string().nullable(),
  confidentialNotes: z.string().nullable(),
  assignedAt: z.string(),
  submittedAt: z.string().nullable(),
});

export const myReview = z.object({
  id: uuid,
  callId: uuid,
  applicationId: uuid,
  applicationTitle: z.string(),
  applicationState: z.string(),
  state: z.enum(['assigned', 'submitted', 'recused']),
  scores: z.array(score),
  commentsForApplicant: z.string().nullable(),
  confidentialNotes: z.string().nullable(),
  assignedAt: z.string(),
  submittedAt: z.string().nullable(),
});

export const myReviewsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: uuid.optional(),
  callId: uuid.optional(),
});

const spread = z.object({ sd: z.number(), min: z.number(), max: z.number(), rawMin: z.number(), rawMax: z.number() });

export const ranking = z.object({
  callId: uuid,
  scale: z.object({ min: z.number(), max: z.number() }),
  criteria: z.array(z.object({ key: z.string(), weight: z.number() })),
  items: z.array(
    z.object({
      rank: z.number(),
      applicationId: uuid,
      title: z.string(),
      state: z.string(),
      reviews: z.number(),
      rawMean: z.number(),
      normalised: z.number(),
      normalisedOnScale: z.number(),
      spread,
      reviewers: z.array(z.object({ reviewerId: uuid, weighted: z.number(), normalised: z.number() })),
    }),
  ),
});

export const autoAssignOutput = z.object({
  assigned: z.number(),
  perApplication: z.number(),
  shortfalls: z.array(z.object({ applicationId: uuid, missing: z.number() })),
  load: z.array(z.object({ reviewerId: uuid, reviews: z.number() })),
});
