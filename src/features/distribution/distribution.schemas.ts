import { z } from 'zod';
import { itemConditions, shipmentStates } from '../../core/distribution.js';

const quantity = z.string().max(40);
const dateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2027-01-31T00:00:00Z' });

export const shipmentInput = z.strictObject({
  applicationId: z.uuid('must be a UUID'),
  /** Ship what this executed allocation reserved to the application. */
  allocationId: z.uuid('must be a UUID').optional(),
  /** The reservations to ship; without it, every unshipped reservation of the application (of the allocation, if given). */
  reservationIds: z.array(z.uuid('must be a UUID')).min(1).max(500).optional(),
  note: z.string().trim().min(1).max(2000).optional(),
  loanDueAt: dateTime.optional(),
  reportDueAt: dateTime.optional(),
});

export const dispatchInput = z.strictObject({
  courier: z.string().trim().min(1).max(200),
  trackingNumber: z.string().trim().min(1).max(200),
});

export const cancelInput = z.strictObject({ reason: z.string().trim().min(1).max(2000) });

export const receiptInput = z.strictObject({
  items: z
    .array(
      z.strictObject({
        sampleId: z.uuid('must be a UUID'),
        quantity,
        condition: z.enum(itemConditions),
        note: z.string().trim().min(1).max(2000).optional(),
      }),
    )
    .min(1)
    .max(500),
  note: z.string().trim().min(1).max(5000).optional(),
});

export const resolveInput = z.strictObject({
  action: z.enum(['accept', 'adjust']),
  resolution: z.string().trim().min(1).max(5000),
});

export const shipmentListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  applicationId: z.uuid('must be a UUID').optional(),
  state: z.enum(shipmentStates).optional(),
});

export const incidentListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  applicationId: z.uuid('must be a UUID').optional(),
  state: z.enum(['open', 'resolved']).optional(),
});

export const incident = z.object({
  id: z.uuid(),
  shipmentId: z.uuid(),
  shipmentReference: z.string(),
  applicationId: z.uuid(),
  sampleId: z.uuid(),
  identifier: z.string(),
  kind: z.enum(['quantity', 'condition', 'missing']),
  expected: z.string(),
  found: z.string(),
  condition: z.enum(itemConditions),
  description: z.string(),
  state: z.enum(['open', 'resolved']),
  action: z.enum(['accept', 'adjust']).nullable(),
  resolution: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  createdAt: z.string(),
});

export const shipment = z.object({
  id: z.uuid(),
  reference: z.string(),
  applicationId: z.uuid(),
  applicationTitle: z.string(),
  state: z.enum(shipmentStates),
  recipient: z.object({ id: z.uuid(), name: z.string(), institutionId: z.uuid(), institution: z.string() }),
  unit: z.string(),
  total: z.string(),
  note: z.string().nullable(),
  courier: z.string().nullable(),
  trackingNumber: z.string().nullable(),
  loanDueAt: z.string().nullable(),
  reportDueAt: z.string().nullable(),
  receiptNote: z.string().nullable(),
  createdAt: z.string(),
  packedAt: z.string().nullable(),
  dispatchedAt: z.string().nullable(),
  receivedAt: z.string().nullable(),
  cancelledAt: z.string().nullable(),
  items: z.array(
    z.object({
      sampleId: z.uuid(),
      identifier: z.string(),
      kind: z.string(),
      parentIdentifier: z.string().nullable(),
      reservationId: z.uuid(),
      quantity: z.string(),
      sampleState: z.string(),
      receivedQuantity: z.string().nullable(),
      condition: z.enum(itemConditions).nullable(),
      note: z.string().nullable(),
    }),
  ),
  events: z.array(z.object({ kind: z.string(), at: z.string(), actorId: z.string().nullable(), data: z.record(z.string(), z.unknown()) })),
  incidents: z.array(incident),
});
