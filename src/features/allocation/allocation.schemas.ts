import { z } from 'zod';

export const limits = { items: 2000, pieces: 8, note: 2000 } as const;

const uuid = z.uuid();
const decimal = z.string().max(40);

export const proposeInput = z.strictObject({
  /** Smallest subsample the lab can cut, in the collection's unit; defaults to one smallest unit. */
  minCut: decimal.optional(),
  /** Most pieces (source samples) per item. */
  maxPieces: z.int().min(1).max(8).optional(),
  institutionCap: z
    .strictObject({
      /** The most one institution receives of any one kind. */
      perKind: decimal.nullish(),
      /** The most one institution receives over all kinds. */
      total: decimal.nullish(),
    })
    .optional(),
  /** The solver's time limit; the greedy proposal is used (and said so) if it runs out without an answer. */
  timeLimitSeconds: z.int().min(1).max(120).optional(),
  note: z.string().max(limits.note).optional(),
});
export type ProposeInput = z.infer<typeof proposeInput>;

/** `Prefer: respond-async` (RFC 7240) runs the proposal as a job. */
export const proposeHeaders = z.object({ prefer: z.string().max(200).optional() });

export const allocationEdit = z.strictObject({
  /** The items to change, each with its complete new list of pieces (empty: nothing for this item). */
  items: z
    .array(
      z.strictObject({
        applicationId: uuid,
        kind: z.string().min(1).max(64),
        pieces: z.array(z.strictObject({ sampleId: uuid, quantity: decimal })).max(limits.pieces),
      }),
    )
    .min(1)
    .max(limits.items),
  note: z.string().max(limits.note).optional(),
});
export type AllocationEdit = z.infer<typeof allocationEdit>;

const state = z.enum(['draft', 'approved', 'executed', 'superseded']);
const params = z.record(z.string(), z.union([z.string(), z.number()]));

const exclusionReason = z.enum(['consent-withdrawn', 'no-consent', 'use-not-consented']);

export const violation = z.object({
  code: z.string(),
  message: z.string(),
  applicationId: z.string().optional(),
  itemId: z.string().optional(),
  sampleId: z.string().optional(),
  kind: z.string().optional(),
  institutionId: z.string().optional(),
  /** For consent-excluded: why the donor's consent keeps the sample from the application. */
  reason: exclusionReason.optional(),
  /** For consent-excluded: the uses the consent does not cover. */
  uses: z.array(z.string()).optional(),
});

/** A sample of the item's kind, with material to give, that the application's intended uses may not draw on. */
const exclusion = z.object({
  code: z.literal('consent-scope-excluded'),
  sampleId: uuid,
  sampleIdentifier: z.string(),
  reason: exclusionReason,
  /** The uses the donor's consent does not cover. */
  uses: z.array(z.string()),
  message: z.string(),
});

export const verification = z
  .object({ ok: z.boolean(), checkedAgainst: z.enum(['inventory-now', 'inventory-at-execution']), violations: z.array(violation) })
  .nullable();

export const allocationSummary = z.object({
  id: uuid,
  callId: uuid,
  state,
  solver: z.enum(['highs', 'greedy']),
  solverStatus: z.string().nullable(),
  fallbackReason: z.string().nullable(),
  edited: z.boolean(),
  objective: z.number(),
  greedyObjective: z.number(),
  bound: z.number().nullable(),
  gap: z.number().nullable(),
  elapsedMs: z.number(),
  note: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  approvedBy: z.string().nullable(),
  approvedAt: z.string().nullable(),
  executedBy: z.string().nullable(),
  executedAt: z.string().nullable(),
});

export const allocation = allocationSummary.extend({
  unit: z.string(),
  rules: z.object({ minCut: z.string(), maxPieces: z.number(), institutionCap: z.object({ perKind: z.string().nullable(), total: z.string().nullable() }) }),
  totals: z.object({ allocated: z.string(), byKind: z.array(z.object({ kind: z.string(), releasable: z.string(), allocated: z.string() })) }),
  applications: z.array(
    z.object({
      applicationId: uuid,
      institutionId: uuid,
      rank: z.number(),
      outcome: z.enum(['full', 'partial', 'none']),
      explanation: z.string(),
      items: z.array(
        z.object({
          kind: z.string(),
          requested: z.string(),
          minimum: z.string(),
          allocated: z.string(),
          score: z.number(),
          outcome: z.enum(['full', 'partial', 'none']),
          reason: z.string(),
          params,
          explanation: z.string(),
          exclusions: z.array(exclusion),
          pieces: z.array(
            z.object({ sampleId: uuid, sampleIdentifier: z.string(), quantity: z.string(), childSampleId: z.string().nullable(), childIdentifier: z.string().nullable(), reservationId: z.string().nullable() }),
          ),
        }),
      ),
    }),
  ),
  verification,
});

export const checkOutput = z.object({
  ok: z.boolean(),
  violations: z.array(violation),
  objective: z.number(),
  items: z.array(z.object({ applicationId: uuid, kind: z.string(), allocated: z.string(), outcome: z.enum(['full', 'partial', 'none']), reason: z.string(), params, explanation: z.string(), exclusions: z.array(exclusion) })),
});

const shares = z.object({ quantity: z.string(), byKind: z.record(z.string(), z.string()) });
export const distribution = z.object({
  callId: uuid,
  unit: z.string(),
  quantity: z.string(),
  byKind: z.record(z.string(), z.string()),
  byInstitution: z.array(shares.extend({ institutionId: uuid })),
  byResearchDirection: z.array(shares.extend({ direction: z.string() })),
});
