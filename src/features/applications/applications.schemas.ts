import { z } from 'zod';
import { applicationStates, decisionOutcomes } from '../../core/workflow.js';

export const limits = { title: 300, text: 20_000, methods: 10_000, items: 50, team: 50, publications: 100, attachments: 10, attachmentBytes: 10 * 1024 * 1024 } as const;

const uuid = z.uuid();
const decimal = z.string().max(40);

export const itemInput = z.strictObject({
  kind: z.string().trim().min(1).max(64),
  quantity: decimal,
  /** Below this the research cannot be done; defaults to the quantity asked. */
  minimum: decimal.optional(),
});

export const teamMember = z.strictObject({ name: z.string().trim().min(1).max(200), role: z.string().max(200).optional(), institution: z.string().max(200).optional() });
export const publication = z.strictObject({ citation: z.string().trim().min(1).max(2000), doi: z.string().max(200).optional() });

const fields = {
  title: z.string().trim().min(1).max(limits.title),
  researchDirection: z.string().trim().min(1).max(200).nullable(),
  researchDirectionOther: z.string().trim().max(500).nullable(),
  methods: z.string().max(limits.methods).nullable(),
  destructive: z.boolean(),
  justification: z.string().max(limits.text).nullable(),
  items: z.array(itemInput).max(limits.items),
  team: z.array(teamMember).max(limits.team),
  publications: z.array(publication).max(limits.publications),
  ethicsReference: z.string().trim().max(200).nullable(),
};

export const applicationInput = z.strictObject({
  callId: uuid,
  title: fields.title,
  researchDirection: fields.researchDirection.optional(),
  researchDirectionOther: fields.researchDirectionOther.optional(),
  methods: fields.methods.optional(),
  destructive: fields.destructive.optional(),
  justification: fields.justification.optional(),
  items: fields.items.optional(),
  team: fields.team.optional(),
  publications: fields.publications.optional(),
  ethicsReference: fields.ethicsReference.optional(),
});
export type ApplicationInput = z.infer<typeof applicationInput>;

export const applicationPatch = z.strictObject({
  title: fields.title.optional(),
  researchDirection: fields.researchDirection.optional(),
  researchDirectionOther: fields.researchDirectionOther.optional(),
  methods: fields.methods.optional(),
  destructive: fields.destructive.optional(),
  justification: fields.justification.optional(),
  items: fields.items.optional(),
  team: fields.team.optional(),
  publications: fields.publications.optional(),
  ethicsReference: fields.ethicsReference.optional(),
});
export type ApplicationPatch = z.infer<typeof applicationPatch>;

export const attachment = z.object({ id: uuid, name: z.string(), sizeBytes: z.number(), sha256: z.string(), createdAt: z.string() });

export const application = z.object({
  id: uuid,
  callId: uuid,
  state: z.enum(applicationStates),
  title: z.string(),
  researchDirection: z.string().nullable(),
  researchDirectionOther: z.string().nullable(),
  methods: z.string().nullable(),
  destructive: z.boolean(),
  justification: z.string().nullable(),
  items: z.array(z.object({ kind: z.string(), quantity: z.string(), minimum: z.string(), approved: z.string().nullable() })),
  unit: z.string(),
  attachments: z.array(attachment),
  submittedAt: z.string().nullable(),
  withdrawnAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  // Identity: absent for a reviewer of a blind call.
  applicantId: uuid.optional(),
  institutionId: uuid.optional(),
  applicant: z.object({ id: uuid, name: z.string(), email: z.string().optional() }).optional(),
  institution: z.object({ id: uuid, code: z.string(), name: z.string() }).optional(),
  team: z.array(teamMember).optional(),
  publications: z.array(publication).optional(),
  ethicsReference: z.string().nullable().optional(),
  decision: z
    .object({ outcome: z.enum(decisionOutcomes), decidedAt: z.string(), letter: z.string().nullable(), rationale: z.string().nullable().optional(), reviewComments: z.array(z.string()).optional() })
    .optional(),
});

export const applicationListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.uuid().optional(),
  callId: z.uuid().optional(),
  state: z.enum(applicationStates).optional(),
  mine: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});

export const withdrawInput = z.strictObject({ reason: z.string().max(2000).optional() });
export const attachmentQuery = z.strictObject({ name: z.string().max(500).optional() });
export const attachmentParams = z.strictObject({ id: uuid, attachmentId: uuid });

export const statistics = z.object({
  callId: uuid,
  applications: z.number(),
  applicantInstitutions: z.number(),
  approved: z.number(),
  approvedInstitutions: z.number(),
  distributed: z.object({ quantity: z.string().describe('exact decimal in the unit'), unit: z.string(), byKind: z.record(z.string(), z.string()) }),
  byResearchDirection: z.array(
    z.object({ direction: z.string(), applications: z.number(), approved: z.number(), distributed: z.string().describe('exact decimal; the rows sum to distributed.quantity'), distributedByKind: z.record(z.string(), z.string()) }),
  ),
  byInstitution: z
    .array(
      z.object({
        institutionId: uuid,
        code: z.string(),
        name: z.string(),
        applications: z.number(),
        approved: z.number(),
        distributed: z.string().describe('exact decimal; the rows sum to distributed.quantity'),
        distributedByKind: z.record(z.string(), z.string()),
      }),
    )
    .optional()
    .describe('public once the call is decided; always for the committee, curators and auditors'),
});
