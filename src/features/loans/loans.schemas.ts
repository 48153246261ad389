import { z } from 'zod';

const dateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2027-01-31T00:00:00Z' });
const quantity = z.string().max(40);
const fieldError = z.object({ field: z.string(), message: z.string() });

export const loanListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  state: z.enum(['open', 'closed']).optional(),
  overdue: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  applicationId: z.uuid('must be a UUID').optional(),
});

export const loanDatesInput = z.strictObject({ dueAt: dateTime.optional(), reportDueAt: dateTime.optional() });
export const reportInput = z.strictObject({ summary: z.string().trim().min(1).max(20_000) });
export const publicationInput = z.strictObject({
  doi: z.string().trim().min(1).max(300),
  title: z.string().trim().min(1).max(500),
  acknowledgement: z.string().trim().min(1).max(2000),
});
export const returnInput = z.strictObject({
  items: z
    .array(z.strictObject({ sampleId: z.uuid('must be a UUID'), quantity, condition: z.enum(['intact', 'damaged']).optional(), note: z.string().trim().min(1).max(2000).optional() }))
    .min(1)
    .max(200),
});
export const consumptionInput = z.strictObject({
  items: z.array(z.strictObject({ sampleId: z.uuid('must be a UUID'), quantity, note: z.string().trim().min(1).max(2000) })).min(1).max(200),
});
export const closeInput = z.strictObject({ note: z.string().trim().min(1).max(2000).optional() });

export const loan = z.object({
  id: z.uuid(),
  applicationId: z.uuid(),
  applicationTitle: z.string(),
  applicationState: z.string(),
  applicant: z.object({ id: z.uuid(), name: z.string(), institutionId: z.uuid(), institution: z.string().nullable() }),
  state: z.enum(['open', 'closed']),
  dueAt: z.string(),
  reportDueAt: z.string(),
  openedAt: z.string(),
  closedAt: z.string().nullable(),
  closeNote: z.string().nullable(),
  unit: z.string(),
  loaned: z.string(),
  returned: z.string(),
  consumed: z.string(),
  adjusted: z.string(),
  outstanding: z.string(),
  overdue: z.object({ report: z.boolean(), material: z.boolean() }),
  blockers: z.array(fieldError),
  samples: z.array(z.object({ sampleId: z.uuid(), identifier: z.string(), kind: z.string(), shipmentId: z.uuid(), loaned: z.string(), held: z.string(), state: z.string() })),
  entries: z.array(
    z.object({
      id: z.uuid(),
      kind: z.enum(['return', 'consume']),
      sampleId: z.uuid(),
      quantity: z.string(),
      returnedSampleId: z.string().nullable(),
      returnedIdentifier: z.string().nullable(),
      condition: z.string().nullable(),
      note: z.string().nullable(),
      createdAt: z.string(),
      receivedAt: z.string().nullable().describe("a return's receipt by the curator; null while on its way back"),
      receivedQuantity: z.string().nullable(),
      receivedCondition: z.string().nullable(),
      receiptNote: z.string().nullable(),
    }),
  ),
  reports: z.array(z.object({ id: z.uuid(), summary: z.string(), filedAt: z.string() })),
  publications: z.array(z.object({ id: z.uuid(), doi: z.string(), title: z.string(), acknowledgement: z.string(), registeredAt: z.string() })),
});

export const returnListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  state: z.enum(['in_transit', 'received']).optional(),
  loanId: z.uuid('must be a UUID').optional(),
});

export const returnReceiptInput = z.strictObject({
  quantity: quantity.optional().describe('the quantity found on arrival (default: as declared); less than declared is recorded as an adjustment'),
  condition: z.enum(['intact', 'damaged']).describe('damaged material is quarantined'),
  locationId: z.uuid('must be a UUID').nullable().optional().describe('where the returned material is stored (apart from pristine material)'),
  position: z.string().trim().min(1).max(20).nullable().optional(),
  note: z.string().trim().min(1).max(2000).optional(),
});

export const returnEntry = z.object({
  id: z.uuid(),
  loanId: z.uuid(),
  applicationId: z.uuid(),
  applicationTitle: z.string(),
  applicant: z.object({ id: z.uuid(), name: z.string(), institution: z.string().nullable() }),
  sampleId: z.uuid(),
  sampleIdentifier: z.string(),
  kind: z.string(),
  returnedSampleId: z.uuid(),
  returnedIdentifier: z.string(),
  returnedState: z.string().nullable(),
  locationId: z.uuid().nullable(),
  quantity: z.string(),
  unit: z.string(),
  condition: z.string().nullable(),
  note: z.string().nullable(),
  returnedAt: z.string(),
  state: z.enum(['in_transit', 'received']),
  receivedAt: z.string().nullable(),
  receivedQuantity: z.string().nullable(),
  receivedCondition: z.string().nullable(),
  receiptNote: z.string().nullable(),
});
