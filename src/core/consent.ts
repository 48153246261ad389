/**
 * Human material: which research uses a donor's consent allows, which samples
 * an application may receive, what never identifies a donor, and what a
 * biohazardous shipment must declare. Pure rules, no I/O.
 */

/**
 * Uses that need the donor's explicit consent. Plain non-commercial research
 * inside the bank's own institution is what every consent form covers, so it
 * is not listed.
 */
export const consentUses = ['genetic-analysis', 'commercial-use', 'external-sharing', 'data-linkage', 'cell-line-derivation', 'animal-research'] as const;
export type ConsentUse = (typeof consentUses)[number];

export type ExclusionReason = 'consent-withdrawn' | 'no-consent' | 'use-not-consented';

export interface ConsentState {
  /** The donor withdrew consent: nothing of theirs may be allocated. */
  withdrawn: boolean;
  /** Uses the donor's current consent allows; null when no consent is recorded. */
  scope: readonly string[] | null;
}

export interface SampleConsent {
  sampleId: string;
  /** Whether the sample's collection holds human material under consent. */
  humanConsent: boolean;
  /** The sample's own flag (the database's); true means excluded whatever else is known. */
  consentWithdrawn: boolean;
  /** The donor's consent, or null when no donor is linked. */
  donor: ConsentState | null;
}

export interface Exclusion {
  sampleId: string;
  reason: ExclusionReason;
  /** The uses the consent does not cover (for use-not-consented). */
  uses?: string[];
  message: string;
}

export interface Eligibility {
  eligible: string[];
  excluded: Exclusion[];
}

/**
 * The uses an application needs consent for: those it declares, plus
 * external-sharing whenever the applicant's institution is not the one that
 * holds the collection (the material leaves the bank's institution).
 */
export function requiredUses(declared: readonly string[], applicantInstitutionId: string | null, holderInstitutionId: string | null): string[] {
  const uses = new Set(declared);
  if (applicantInstitutionId !== null && holderInstitutionId !== null && applicantInstitutionId !== holderInstitutionId) uses.add('external-sharing');
  return consentUses.filter((u) => uses.has(u));
}

/** Which samples the uses may draw on, and why each other one is excluded. */
export function checkEligibility(uses: readonly string[], samples: readonly SampleConsent[]): Eligibility {
  const eligible: string[] = [];
  const excluded: Exclusion[] = [];
  for (const sample of samples) {
    const exclusion = exclusionOf(uses, sample);
    if (exclusion) excluded.push(exclusion);
    else eligible.push(sample.sampleId);
  }
  return { eligible, excluded };
}

/** Why a sample is excluded, in plain English (the same words wherever an exclusion is shown). */
export function exclusionMessage(reason: ExclusionReason, uses: readonly string[] = []): string {
  if (reason === 'consent-withdrawn') return 'the donor withdrew consent';
  if (reason === 'no-consent') return 'no consent is recorded for this specimen';
  return `the donor's consent does not cover ${uses.join(', ')}`;
}

function exclusionOf(uses: readonly string[], sample: SampleConsent): Exclusion | undefined {
  const { sampleId } = sample;
  if (sample.consentWithdrawn || sample.donor?.withdrawn) {
    return { sampleId, reason: 'consent-withdrawn', message: exclusionMessage('consent-withdrawn') };
  }
  if (!sample.humanConsent) return undefined;
  if (!sample.donor || sample.donor.scope === null) {
    return { sampleId, reason: 'no-consent', message: exclusionMessage('no-consent') };
  }
  const allowed = new Set(sample.donor.scope);
  const missing = uses.filter((u) => !allowed.has(u));
  if (missing.length > 0) {
    return { sampleId, reason: 'use-not-consented', uses: missing, message: exclusionMessage('use-not-consented', missing) };
  }
  return undefined;
}

/**
 * Consent before allocation: for each application, the samples its uses may
 * not draw on (the uses it needs consent for, see requiredUses, against each
 * sample's donor consent), and why. An application absent from the answer may
 * draw on every sample. Samples are checked against the holder of their own
 * collection, so one pool may mix collections.
 */
export function allocationExclusions(
  applications: ReadonlyArray<{ applicationId: string; uses: readonly string[]; institutionId: string | null }>,
  samples: ReadonlyArray<SampleConsent & { holderInstitutionId: string | null }>,
): Map<string, Exclusion[]> {
  const out = new Map<string, Exclusion[]>();
  for (const application of applications) {
    const excluded: Exclusion[] = [];
    for (const sample of samples) {
      const exclusion = exclusionOf(requiredUses(application.uses, application.institutionId, sample.holderInstitutionId), sample);
      if (exclusion) excluded.push(exclusion);
    }
    if (excluded.length > 0) out.set(application.applicationId, excluded);
  }
  return out;
}

/**
 * Field names that would identify a donor. Inputs carrying any of them are
 * refused outright rather than silently dropped, so nobody believes they were stored.
 */
const identifyingKeys = [
  'name', 'fullname', 'firstname', 'lastname', 'surname', 'givenname', 'familyname', 'patientname', 'donorname',
  'nationalid', 'idnumber', 'idcard', 'identitycard', 'ssn', 'socialsecuritynumber', 'passport', 'passportnumber',
  'birthdate', 'dateofbirth', 'dob', 'phone', 'telephone', 'mobile', 'email', 'address', 'postcode', 'zipcode',
  'mrn', 'medicalrecordnumber', 'hospitalnumber', 'patientid', 'insurancenumber',
  '姓名', '身份证', '身份证号', '出生日期', '电话', '手机', '住址', '地址', '病历号',
];
const identifyingSet = new Set(identifyingKeys);

/** Normalises a field name for comparison: `National_ID`, `national-id` and `nationalId` are one. */
export function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[\s_.-]/g, '');
}

export function isIdentifyingKey(key: string): boolean {
  return identifyingSet.has(normaliseKey(key));
}

/** Paths of identifying keys anywhere in a JSON value (`attributes.patient_name`). */
export function identifyingPaths(value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object') return [];
  const found: string[] = [];
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const here = path ? `${path}.${key}` : key;
    if (!Array.isArray(value) && isIdentifyingKey(key)) found.push(here);
    found.push(...identifyingPaths(inner, here));
  }
  return found;
}

/** A pseudonymous donor code: letters required, and no long run of digits (an id card or phone number is not a code). */
export function donorCodeProblem(code: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$/.test(code)) return 'must be 3 to 32 letters, digits, dot, dash or underscore';
  if (!/[A-Za-z]/.test(code)) return 'must contain a letter: a pseudonym, not a number from an identity document';
  if (/[0-9]{9}/.test(code)) return 'looks like an identity or phone number; use the bank\'s pseudonym';
  return undefined;
}

export const icd10Pattern = /^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$/;
/** ISBER SPREC v3: seven elements; the fifth is one character (fluids) or three (tissue fixation). */
export const sprecPattern = /^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]-[A-Z0-9]-([A-Z0-9]|[A-Z0-9]{3})-[A-Z0-9]-[A-Z0-9]$/;

export interface HazardItem {
  identifier: string;
  kind: string;
  biosafetyLevel: number | null;
  quantity: string;
  unit: string;
}

export interface BiohazardDeclaration {
  required: boolean;
  /** The highest biosafety level in the package. */
  level: number | null;
  unNumber: 'UN3373' | 'UN2814' | null;
  properShippingName: string | null;
  packingInstruction: 'P650' | 'P620' | null;
  /** The samples that make the declaration necessary. */
  items: HazardItem[];
  /** Lines printed on the packing list, in order. */
  lines: string[];
}

/**
 * What a package of samples must declare. Level 2 material is shipped as
 * Biological Substance, Category B (UN3373, P650); level 3 and 4 as an
 * Infectious Substance affecting humans, Category A (UN2814, P620), which
 * also needs the shipper's dangerous goods declaration.
 */
export function biohazardDeclaration(items: readonly HazardItem[]): BiohazardDeclaration {
  const hazardous = items.filter((i) => (i.biosafetyLevel ?? 1) >= 2);
  const level = items.reduce<number | null>((max, i) => (i.biosafetyLevel !== null && (max === null || i.biosafetyLevel > max) ? i.biosafetyLevel : max), null);
  if (hazardous.length === 0) {
    return { required: false, level, unNumber: null, properShippingName: null, packingInstruction: null, items: [], lines: [] };
  }
  const categoryA = (level ?? 0) >= 3;
  const unNumber = categoryA ? 'UN2814' : 'UN3373';
  const properShippingName = categoryA ? 'Infectious substance, affecting humans' : 'Biological substance, Category B';
  const packingInstruction = categoryA ? 'P620' : 'P650';
  const lines = [
    `BIOHAZARD — ${unNumber} ${properShippingName}`,
    `Biosafety level ${level}; packed to packing instruction ${packingInstruction} (triple packaging).`,
    ...(categoryA ? ["Shipper's Declaration for Dangerous Goods attached; emergency contact on the outer package."] : ['Name and telephone number of a responsible person on the outer package.']),
    `Hazardous contents: ${hazardous.map((i) => `${i.identifier} (${i.kind}, ${i.quantity} ${i.unit}, BSL-${i.biosafetyLevel})`).join('; ')}`,
  ];
  return { required: true, level, unNumber, properShippingName, packingInstruction, items: hazardous, lines };
}
