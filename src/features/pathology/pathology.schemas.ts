/** The pathology bank's shapes at the HTTP edge. */
import { z } from 'zod';
import { consentUses, donorCodeProblem, icd10Pattern, isIdentifyingKey, sprecPattern } from '../../core/consent.js';
import { sample } from '../inventory/inventory.schemas.js';

const uuid = z.uuid('must be a UUID');
const day = z.iso.date({ message: 'must be a date such as 2020-03-01' });
const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2020-03-01T08:30:00Z' });
const use = z.enum(consentUses);

/**
 * A strict object that names the offending field: a donor-identifying field
 * (name, national id, birth date…) is refused as such, any other unknown one
 * as unknown. Nothing is silently dropped.
 */
function pseudonymous<T extends z.ZodRawShape>(shape: T) {
  const known = new Set(Object.keys(shape));
  return z.looseObject(shape).superRefine((value, ctx) => {
    for (const key of Object.keys(value)) {
      if (known.has(key)) continue;
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: isIdentifyingKey(key) ? 'identifies a donor; the bank stores a pseudonymous donor code only' : 'is not a known field',
      });
    }
  }).transform((value) => Object.fromEntries(Object.entries(value).filter(([key]) => known.has(key))) as z.infer<z.ZodObject<T>>);
}

export const donorCode = z.string().superRefine((code, ctx) => {
  const problem = donorCodeProblem(code);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const consentInput = pseudonymous({
  scope: z.array(use).max(consentUses.length),
  givenOn: day,
  formVersion: z.string().trim().min(1).max(64),
});
export type ConsentInput = z.infer<typeof consentInput>;

export const donorInput = pseudonymous({
  code: donorCode,
  collectionId: uuid,
  collectedOn: day.optional(),
  collectionSite: z.string().trim().min(1).max(200).optional(),
  diagnoses: z.array(z.string().trim().toUpperCase().regex(icd10Pattern, 'must be an ICD-10 code such as U07.1')).max(50).optional(),
  consent: consentInput.optional(),
});
export type DonorInput = z.infer<typeof donorInput>;

export const preanalytical = {
  collectionMethod: z.enum(['autopsy', 'biopsy', 'resection', 'aspiration', 'swab', 'venipuncture', 'lavage', 'other']).optional(),
  bodySite: z.string().trim().min(1).max(200).optional(),
  collectedAt: instant.optional(),
  fixation: z.enum(['none', 'formalin', 'alcohol', 'frozen', 'oct', 'rnalater', 'other']).optional(),
  coldIschaemiaMinutes: z.int().min(0).max(100_000).optional(),
  storageTemperatureC: z.int().min(-273).max(60).optional(),
  sprec: z.string().trim().toUpperCase().regex(sprecPattern, 'must be a SPREC v3 code of seven elements, such as TIS-SRG-A-B-FOR-S-A').optional(),
  biosafetyLevel: z.int().min(1).max(4).optional(),
};

export const specimenInput = pseudonymous({
  /** An already registered root sample; or give kind and quantity to register a new one. */
  sampleId: uuid.optional(),
  kind: z.string().trim().min(1).max(64).optional(),
  quantity: z.string().min(1).max(40).optional(),
  identifier: z.string().min(1).max(64).regex(/^\S+$/, 'must not contain spaces').optional(),
  locationId: uuid.optional(),
  ...preanalytical,
});
export type SpecimenInput = z.infer<typeof specimenInput>;

export const withdrawalInput = pseudonymous({ reason: z.string().trim().max(2000).optional() });

export const consent = z.object({ id: uuid, scope: z.array(z.string()), givenOn: z.string(), formVersion: z.string(), withdrawnAt: z.string().nullable() });

export const donor = z.object({
  id: uuid,
  code: z.string(),
  collectionId: uuid,
  collectedOn: z.string().nullable(),
  collectionSite: z.string().nullable(),
  diagnoses: z.array(z.string()),
  consentWithdrawnAt: z.string().nullable(),
  consents: z.array(consent),
  specimens: z.int(),
  createdAt: z.string(),
});

export const specimen = z.object({
  sampleId: uuid,
  donorId: uuid,
  collectionMethod: z.string().nullable(),
  bodySite: z.string().nullable(),
  collectedAt: z.string().nullable(),
  fixation: z.string().nullable(),
  coldIschaemiaMinutes: z.int().nullable(),
  storageTemperatureC: z.int().nullable(),
  sprec: z.string().nullable(),
  biosafetyLevel: z.int().nullable(),
});

/**
 * One of a donor's registered specimens: the sample as the sample list shows it
 * (quantity exactly as stored, in the collection's unit), its pre-analytical
 * record, and how many subsamples have been cut from it (at any depth; they
 * follow the donor). Nothing that identifies the donor.
 */
export const donorSpecimen = z.object({
  sample: sample.pick({ id: true, identifier: true, kind: true, quantity: true, unit: true, state: true, locationId: true, position: true }),
  specimen,
  descendants: z.int().min(0),
});
export type DonorSpecimen = z.infer<typeof donorSpecimen>;

export const donorSpecimenQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

const heldSample = z.object({ sampleId: uuid, identifier: z.string(), state: z.string() });
export const holdings = z.object({
  donorId: uuid,
  consentWithdrawn: z.boolean(),
  loans: z.array(heldSample.extend({ loanId: uuid, applicationId: uuid, dueAt: z.string() })),
  shipments: z.array(heldSample.extend({ shipmentId: uuid, reference: z.string(), shipmentState: z.string(), applicationId: uuid })),
  reservations: z.array(heldSample.extend({ reservationId: uuid, applicationId: uuid.nullable(), quantity: z.string() })),
  elsewhere: z.array(heldSample),
});

export const withdrawal = z.object({
  donor,
  quarantined: z.array(z.object({ sampleId: uuid, identifier: z.string() })),
  releasedReservations: z.array(z.object({ reservationId: uuid, sampleId: uuid, identifier: z.string(), applicationId: uuid.nullable(), quantity: z.string() })),
  holdings,
});

export const donorListQuery = z.strictObject({
  collectionId: uuid.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(64).optional(),
});

export const usesInput = z.strictObject({ uses: z.array(use).max(consentUses.length) });
export const uses = z.object({ applicationId: uuid, uses: z.array(z.string()), required: z.array(z.string()) });

export const eligibilityInput = z
  .strictObject({
    applicationId: uuid.optional(),
    uses: z.array(use).max(consentUses.length).optional(),
    sampleIds: z.array(uuid).min(1).max(5000),
  })
  .refine((v) => (v.applicationId === undefined) !== (v.uses === undefined), { message: 'give either applicationId or uses', path: ['applicationId'] });

export const eligibility = z.object({
  uses: z.array(z.string()),
  eligible: z.array(uuid),
  excluded: z.array(z.object({ sampleId: uuid, reason: z.enum(['consent-withdrawn', 'no-consent', 'use-not-consented']), uses: z.array(z.string()).optional(), message: z.string() })),
});

export const exportQuery = z.strictObject({ format: z.enum(['csv', 'xlsx']).default('csv'), collectionId: uuid.optional() });

const count = z.int().min(0);
export const catalogEntry = z.object({
  collectionId: uuid,
  code: z.string(),
  name: z.string(),
  institution: z.object({ id: uuid, code: z.string(), name: z.string() }),
  unit: z.string(),
  humanConsent: z.boolean(),
  biosafetyLevel: z.int().nullable(),
  donors: count,
  samples: count,
  availability: z.object({ available: count, unavailable: count, withdrawn: count }),
  availableQuantity: z.string(),
  byKind: z.record(z.string(), z.object({ samples: count, available: count, availableQuantity: z.string() })),
  byDiagnosis: z.record(z.string(), z.object({ samples: count, donors: count, available: count })),
  openCalls: z.array(z.object({ id: uuid, title: z.string(), closesAt: z.string() })),
});
export const catalog = z.object({ network: z.object({ id: uuid, code: z.string(), name: z.string() }), collections: z.array(catalogEntry) });
